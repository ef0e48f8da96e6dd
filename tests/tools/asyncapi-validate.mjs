// Parse one AsyncAPI document with the standard parser (@asyncapi/parser) and print its
// diagnostics as JSON: [{"severity": "error"|"warning"|"information"|"hint", "code",
// "message", "path"}]. The document is the file named as argument, or stdin without one.
// Exit status: 0 when the parser accepted the document, 1 when it did not.
//   node tests/tools/asyncapi-validate.mjs docs/events/partner/asyncapi.json
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Parser } from "@asyncapi/parser";

const SEVERITIES = ["error", "warning", "information", "hint"];

const file = process.argv[2];
const text = readFileSync(file ?? 0, "utf-8");
const options = file ? { source: resolve(file) } : {};
const { document, diagnostics } = await new Parser().parse(text, options);
const report = diagnostics.map((diagnostic) => ({
  severity: SEVERITIES[diagnostic.severity],
  code: diagnostic.code,
  message: diagnostic.message,
  path: diagnostic.path.join("/"),
}));
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
process.exitCode = document === undefined ? 1 : 0;
