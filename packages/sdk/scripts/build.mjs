// Builds the published package: ESM JavaScript per source file, and ONE declaration file that carries
// the server's AppRouter types inlined, so the package type-checks in a project that has never seen
// this monorepo (only @trpc/* types are imported, from the package's own dependencies).
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateDtsBundle } from "dts-bundle-generator";
import ts from "typescript";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "src");
const dist = path.join(root, "dist");

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

function transpile(source, fileName) {
  return ts.transpileModule(source, {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      rewriteRelativeImportExtensions: true,
    },
  }).outputText;
}

/**
 * A workspace module the SDK imports at runtime (`@imapferry/core/csv-columns`: the CSV header lives
 * once, in core) is copied into dist beside the SDK's files, because the published package depends on
 * no workspace package. Only a module that imports nothing itself can be copied like this.
 */
async function copyWorkspaceModule(specifier) {
  const [scope, name, ...subpath] = specifier.split("/");
  const packageDir = path.join(root, "node_modules", scope, name);
  const manifest = JSON.parse(await readFile(path.join(packageDir, "package.json"), "utf8"));
  const entry = manifest.exports?.[subpath.length > 0 ? `./${subpath.join("/")}` : "."]?.source;
  if (!entry) throw new Error(`${specifier} is not an export of ${scope}/${name}.`);
  const file = path.join(packageDir, entry);
  const source = await readFile(file, "utf8");
  const { importedFiles } = ts.preProcessFile(source, true, true);
  if (importedFiles.length > 0) {
    throw new Error(
      `${specifier} (${file}) imports ${importedFiles.map((f) => f.fileName).join(", ")}; the SDK can only copy a module that imports nothing.`,
    );
  }
  const copied = `${[scope.replace(/^@/, ""), name, ...subpath].join("-")}.js`;
  await writeFile(path.join(dist, copied), transpile(source, path.basename(file)));
  return `./${copied}`;
}

// 1. JavaScript: a plain per-file transpile. The SDK's own type check is `pnpm typecheck`; the
// import of the server is type-only and disappears here.
const copies = new Map();
for (const name of await readdir(src)) {
  if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
  let output = transpile(await readFile(path.join(src, name), "utf8"), name);
  for (const [quoted, specifier] of output.matchAll(/"(@imapferry\/[^"]+)"/g)) {
    if (!copies.has(specifier)) copies.set(specifier, await copyWorkspaceModule(specifier));
    output = output.replaceAll(quoted, JSON.stringify(copies.get(specifier)));
  }
  await writeFile(path.join(dist, name.replace(/\.ts$/, ".js")), output);
}

// 2. Declarations: bundled, with everything from the workspace (server router types, core views)
// inlined and third-party libraries left as imports.
const [bundle] = generateDtsBundle(
  [
    {
      filePath: path.join(src, "index.ts"),
      output: { noBanner: true, exportReferencedTypes: false },
    },
  ],
  { preferredConfigPath: path.join(root, "tsconfig.build.json") },
);
await writeFile(path.join(dist, "index.d.ts"), bundle);
console.log(
  `built ${path.relative(process.cwd(), dist)} (${Math.round(bundle.length / 1024)} KiB of declarations)`,
);
