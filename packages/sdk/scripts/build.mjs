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

// 1. JavaScript: a plain per-file transpile. The SDK's own type check is `pnpm typecheck`; the
// import of the server is type-only and disappears here.
for (const name of await readdir(src)) {
  if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
  const source = await readFile(path.join(src, name), "utf8");
  const { outputText } = ts.transpileModule(source, {
    fileName: name,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      rewriteRelativeImportExtensions: true,
    },
  });
  await writeFile(path.join(dist, name.replace(/\.ts$/, ".js")), outputText);
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
