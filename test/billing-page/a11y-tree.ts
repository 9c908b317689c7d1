/**
 * The accessibility tree as chromium exposes it (playwright-core's ariaSnapshotJSON): roles,
 * accessible names and link targets, as a screen reader would get them.
 */
import type { Page } from 'playwright-core';

export interface AriaNode {
  role?: string;
  name?: string;
  text?: string;
  url?: string;
  level?: number;
  children?: Array<AriaNode | string>;
}

export async function ariaTree(page: Page): Promise<AriaNode[]> {
  return (await page.ariaSnapshotJSON()) as unknown as AriaNode[];
}

/** Every node of a role, in document order, however deep. */
export function nodesOf(tree: ReadonlyArray<AriaNode | string>, role: string): AriaNode[] {
  const out: AriaNode[] = [];
  const walk = (nodes: ReadonlyArray<AriaNode | string>) => {
    for (const n of nodes) {
      if (typeof n === 'string') continue;
      if (n.role === role) out.push(n);
      if (n.children) walk(n.children);
    }
  };
  walk(tree);
  return out;
}

/** The roles at the top of the tree: the body's own landmarks and anything outside them. */
export const topRoles = (tree: ReadonlyArray<AriaNode | string>): string[] => tree.flatMap((n) => (typeof n === 'string' ? [] : [n.role ?? '']));
