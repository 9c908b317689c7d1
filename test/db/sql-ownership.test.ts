// Every table and view has one owner: its repository under src/db/. Outside src/db/ no code sends
// a query or holds the text of a statement, and src/db/ depends on none of the layers it serves.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const SRC = path.join(ROOT, 'src');
const DB = path.join(SRC, 'db');

/** The layers that call the repositories. */
const ABOVE_DB = ['mail', 'commands', 'read-models', 'recovery', 'consume', 'pipeline', 'ingest'].map((d) => path.join(SRC, d));

/**
 * Statement shapes, matched in string literals only (comments may name statements). Keywords in
 * upper case, as every statement here is written: "select one from the list" is prose.
 */
const SQL_TEXT: readonly RegExp[] = [
  /^\s*(SELECT|WITH)\s/,
  /\bSELECT\s[\s\S]*\bFROM\s/,
  /\bINSERT\s+INTO\s/,
  /\bUPDATE\s+\S+(\s+AS\s+\S+)?\s+SET\s/,
  /\bDELETE\s+FROM\s/,
  /\bTRUNCATE\s/,
  /\b(CREATE|ALTER|DROP)\s+(OR\s+REPLACE\s+)?(TABLE|VIEW|MATERIALIZED\s+VIEW|INDEX|UNIQUE\s+INDEX|FUNCTION|ROLE|USER|DATABASE|SCHEMA|EXTENSION|TRIGGER|SEQUENCE|TYPE)\s/,
  /\b(GRANT|REVOKE)\s[\s\S]*\b(ON|TO|FROM)\s/,
];

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

const inside = (file: string, dir: string): boolean => file === dir || file.startsWith(dir + path.sep);

function walk(source: ts.SourceFile, visit: (node: ts.Node) => void): void {
  const go = (node: ts.Node): void => {
    visit(node);
    ts.forEachChild(node, go);
  };
  go(source);
}

function where(source: ts.SourceFile, node: ts.Node): string {
  const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  return `${path.relative(ROOT, source.fileName)}:${line}`;
}

/** A literal's text, each `${…}` of a template standing as one word. */
function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => ` _ ${s.literal.text}`).join('');
  return null;
}

/** Calls of a `query` method and statement text, each as "file:line: what". */
function sqlFindings(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  walk(source, (node) => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'query') {
      found.push(`${where(source, node)}: a .query( call`);
    }
    const literal = literalText(node);
    if (literal !== null && SQL_TEXT.some((re) => re.test(literal))) {
      found.push(`${where(source, node)}: SQL text "${literal.replace(/\s+/g, ' ').trim().slice(0, 60)}"`);
    }
  });
  return found;
}

function moduleSpecifiers(source: ts.SourceFile): Array<{ node: ts.Node; specifier: string }> {
  const out: Array<{ node: ts.Node; specifier: string }> = [];
  walk(source, (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ node, specifier: node.moduleSpecifier.text });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ node, specifier: node.argument.literal.text });
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      out.push({ node, specifier: node.arguments[0].text });
    }
  });
  return out;
}

/** Imports of a file in src/db/ from a layer above it, each as "file:line: what". */
function importsFromAbove(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  return moduleSpecifiers(source)
    .filter(({ specifier }) => specifier.startsWith('.'))
    .filter(({ specifier }) => ABOVE_DB.some((dir) => inside(path.resolve(path.dirname(fileName), specifier), dir)))
    .map(({ node, specifier }) => `${where(source, node)}: imports ${specifier}`);
}

const read = (file: string): string => fs.readFileSync(file, 'utf8');

describe('SQL ownership', () => {
  it('has no query call and no statement text outside src/db/', () => {
    const findings = tsFiles(SRC)
      .filter((f) => !inside(f, DB))
      .flatMap((f) => sqlFindings(f, read(f)));
    expect(findings).toEqual([]);
  });

  it('keeps src/db/ free of imports from the layers that call it', () => {
    const findings = tsFiles(DB).flatMap((f) => importsFromAbove(f, read(f)));
    expect(findings).toEqual([]);
  });

  describe('the checks themselves', () => {
    it('name the file and line of a query call and of statement text, and pass over prose and comments', () => {
      const sample = [
        "import type { DataSource } from 'typeorm';",
        'export async function count(ds: DataSource, table: string): Promise<unknown> {',
        '  return ds.query(`SELECT count(*) FROM ${table}`);',
        '}',
        "export const STATEMENT = 'UPDATE invoices SET overdue = true WHERE id = $1';",
        '// A comment may say SELECT x FROM y: comments are not statements.',
        "export const WORDS = 'Select one invoice from the list, then update it';",
        "export const PING = 'SELECT 1';",
      ].join('\n');
      const file = path.join(SRC, 'sample.ts');
      expect(sqlFindings(file, sample)).toEqual([
        'src/sample.ts:3: a .query( call',
        'src/sample.ts:3: SQL text "SELECT count(*) FROM _"',
        'src/sample.ts:5: SQL text "UPDATE invoices SET overdue = true WHERE id = $1"',
        'src/sample.ts:8: SQL text "SELECT 1"',
      ]);
    });

    it('name an import of src/db/ from a layer above it, in any form', () => {
      const sample = [
        "import { chooseRecipient } from '../mail/delivery';",
        "import type { Contact } from '../billing/contact';",
        "export type Usage = import('../commands/usage').UsageError;",
        "export { listInvoices } from '../read-models/list-invoices';",
        "import { claimEventsProcessed } from './event-log';",
      ].join('\n');
      expect(importsFromAbove(path.join(DB, 'sample.ts'), sample)).toEqual([
        'src/db/sample.ts:1: imports ../mail/delivery',
        'src/db/sample.ts:3: imports ../commands/usage',
        'src/db/sample.ts:4: imports ../read-models/list-invoices',
      ]);
    });
  });
});
