// Generate the SDK's types from the contract: `node scripts/generate.mjs <openapi.yaml> <out dir>`.
// Writes schema.ts (openapi-typescript: paths, components, operations) and operations.ts (each
// operationId's method and path, which the typed request layer needs at run time).
// The Python suite runs this into a temporary directory and diffs it with src/generated.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { parse } from "yaml";

const [specArg = "../../openapi.yaml", outArg = "src/generated"] = process.argv.slice(2);
const specPath = resolve(specArg);
const outDir = resolve(outArg);
const header = "// Generated from openapi.yaml by `npm run generate`. Do not edit.\n";

const ast = await openapiTS(pathToFileURL(specPath), { alphabetize: false, defaultNonNullable: false });
mkdirSync(outDir, { recursive: true });
writeFileSync(resolve(outDir, "schema.ts"), header + "/* eslint-disable */\n" + astToString(ast));

const spec = parse(readFileSync(specPath, "utf8"));
const methods = ["get", "put", "post", "delete", "patch"];
const rows = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const method of methods) {
    const op = item[method];
    if (!op?.operationId) continue;
    const json = Object.entries(op.responses ?? {}).some(
      ([status, r]) => status.startsWith("2") && r.content && "application/json" in r.content,
    );
    // The media type of the 2xx body ("" when none): files (image/png, text/calendar) are
    // fetched as bytes or text instead of JSON.
    const media =
      Object.entries(op.responses ?? {})
        .filter(([status, r]) => status.startsWith("2") && r.content)
        .map(([, r]) => Object.keys(r.content)[0])[0] ?? "";
    rows.push(
      `  ${op.operationId}: { method: "${method.toUpperCase()}", path: ${JSON.stringify(path)}, json: ${json}, media: ${JSON.stringify(media)} },`,
    );
  }
}
rows.sort();
writeFileSync(
  resolve(outDir, "operations.ts"),
  header +
    'import type { operations } from "./schema.js";\n\n' +
    "export interface OperationInfo {\n  method: \"GET\" | \"PUT\" | \"POST\" | \"DELETE\" | \"PATCH\";\n  path: string;\n  /** Whether a 2xx answer is JSON (else the body is returned as text). */\n  json: boolean;\n  /** Media type of a 2xx body: \"application/json\", a file's (\"image/png\", \"text/calendar\"), or \"\" for none. */\n  media: string;\n}\n\n" +
    "export const OPERATIONS = {\n" +
    rows.join("\n") +
    "\n} as const satisfies Record<keyof operations, OperationInfo>;\n",
);
console.log(`generated ${rows.length} operations into ${outDir}`);
