import v8 from "node:v8";
const mib = (b: number) => (b / 1048576).toFixed(1);
setInterval(() => {
  const u = Deno.memoryUsage();
  console.error(`rss ${mib(u.rss)} ext ${mib(u.external)} ` + v8.getHeapSpaceStatistics().map((s) => `${s.space_name.replace("_space", "")}:${mib(s.space_size)}/${mib(s.space_used_size)}`).join(" "));
}, 1000);
await import("./sync_bench.ts");
