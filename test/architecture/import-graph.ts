import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import edge from a file in src/ to another module of src/ or to a package. */
export interface ImportEdge {
  /** Path relative to src/, e.g. `api/server.ts`. */
  file: string;
  line: number;
  /** The importing module: the first path segment under src/ (`index` for src/index.ts). */
  from: string;
  /** Another module of src/, or `pkg:<name>` for a third-party package. */
  to: string;
  /** True for `import type …` / `export type … from`, or when every named binding is `type`. */
  typeOnly: boolean;
}

const BUILTINS = new Set(builtinModules);

function moduleOf(pathUnderSrc: string): string {
  return pathUnderSrc.split(sep)[0]!.replace(/\.(ts|js)$/, '');
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause) return false; // side-effect import
    if (clause.isTypeOnly) return true;
    if (clause.name) return false;
    const bindings = clause.namedBindings;
    return !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
  }
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

function listSources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listSources(path, out);
    else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every static import and re-export in src/ (dynamic `import()` included: it is still a dependency). */
export function importGraph(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const path of listSources(srcDir)) {
    const file = relative(srcDir, path);
    const from = moduleOf(file);
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const add = (specifier: string, node: ts.Node, typeOnly: boolean) => {
      if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return;
      const to = specifier.startsWith('.') ? moduleOf(relative(srcDir, resolve(dirname(path), specifier))) : `pkg:${packageName(specifier)}`;
      if (to === from) return;
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      edges.push({ file, line, from, to, typeOnly });
    };
    const visit = (node: ts.Node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node, isTypeOnly(node));
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
        add(node.arguments[0].text, node, false);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal.text, node, true);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return edges;
}
