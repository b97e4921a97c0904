import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const ENTRY = path.join(here, "schemas.ts");
/**
 * The panel's Vite config maps @imapferry/db to this module (its index also exports pg pools and the
 * embedded server); the walk follows the same mapping.
 */
const DB_SCHEMA_MODULE = path.resolve(here, "../../db/src/schema.ts");
/** Packages that run in a browser. Everything else (node:*, pg, kysely, graphile-worker …) is refused. */
const BROWSER_PACKAGES = new Set(["zod"]);

/** Specifiers a module imports or re-exports at runtime; `import type` and `export type` vanish in the build. */
function runtimeSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      if (statement.importClause?.isTypeOnly) continue;
      if (ts.isStringLiteral(statement.moduleSpecifier)) specifiers.push(statement.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(statement)) {
      if (statement.isTypeOnly || !statement.moduleSpecifier) continue;
      if (ts.isStringLiteral(statement.moduleSpecifier)) specifiers.push(statement.moduleSpecifier.text);
    }
  }
  // Dynamic import() and require() would escape the walk above: refuse them outright.
  ts.forEachChild(source, function visit(node: ts.Node): void {
    if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) {
      specifiers.push(`<dynamic ${node.getText(source)}>`);
    }
    ts.forEachChild(node, visit);
  });
  return specifiers;
}

/** Every chain from `entry` to an import a browser cannot load, as "a.ts -> b.ts -> node:fs". */
function nodeOnlyImports(entry: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const trail = [...chain, path.relative(path.dirname(entry), file)];
    for (const specifier of runtimeSpecifiers(file)) {
      if (specifier.startsWith(".")) walk(path.resolve(path.dirname(file), specifier), trail);
      else if (specifier === "@imapferry/db") walk(DB_SCHEMA_MODULE, trail);
      else if (!BROWSER_PACKAGES.has(specifier.split("/")[0] ?? ""))
        problems.push([...trail, specifier].join(" -> "));
    }
  };
  walk(entry, []);
  return problems;
}

describe("core's browser-safe schemas entry", () => {
  it("reaches only zod, other schema modules and @imapferry/db's constant lists", () => {
    expect(nodeOnlyImports(ENTRY)).toEqual([]);
  });
});
