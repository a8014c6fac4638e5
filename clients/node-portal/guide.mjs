// The worked examples of docs/api/portal.md: each is a fenced block after a marker
// `<!-- worked example: NAME -->`, one `key value` pair a line.
import { readFileSync } from "node:fs";

export function workedExample(guidePath, name) {
  const text = readFileSync(guidePath, "utf8");
  const marker = `<!-- worked example: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${guidePath} has no ${marker}`);
  const fence = text.indexOf("```", at);
  const start = text.indexOf("\n", fence) + 1;
  const end = text.indexOf("\n```", start);
  const pairs = new Map();
  for (const line of text.slice(start, end).split("\n")) {
    const found = /^(\S+)\s+(.*)$/.exec(line);
    if (found) pairs.set(found[1], found[2]);
  }
  return pairs;
}
