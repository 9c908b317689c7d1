/**
 * Accessibility checks that run inside the page (page.evaluate): what the browser computed, read
 * with getComputedStyle and the layout, not guessed from the stylesheet. The tests compile without
 * the DOM types, so the little of the DOM used here is declared below; each exported function is
 * sent to the browser as its source, so it uses nothing from outside its own body.
 */

interface DomRect {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}

interface DomStyle {
  color: string;
  backgroundColor: string;
  fontSize: string;
  fontWeight: string;
  visibility: string;
  display: string;
  opacity: string;
  content: string;
  outlineStyle: string;
  outlineWidth: string;
  outlineColor: string;
  boxShadow: string;
}

interface DomNode {
  nodeType: number;
  textContent: string | null;
}

interface DomElement extends DomNode {
  tagName: string;
  id: string;
  parentElement: DomElement | null;
  childNodes: ArrayLike<DomNode>;
  getBoundingClientRect(): DomRect;
  getAttribute(name: string): string | null;
  closest(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

interface DomWindow {
  document: {
    body: DomElement;
    activeElement: DomElement | null;
    documentElement: DomElement & { scrollWidth: number; clientWidth: number };
    getElementById(id: string): DomElement | null;
    querySelectorAll(selector: string): ArrayLike<DomElement>;
  };
  innerWidth: number;
  getComputedStyle(e: DomElement, pseudo?: string): DomStyle;
}

export interface ContrastCheck {
  text: string;
  /** Where it is: the element's tag, its classes and the nearest labelled section. */
  where: string;
  ratio: number;
  /** 4.5 for normal text, 3 for large (≥ 24px, or ≥ 18.66px and bold). */
  required: number;
  fg: string;
  bg: string;
  fontSize: number;
  bold: boolean;
}

/**
 * WCAG 2.x contrast of every visible piece of text (each element with text of its own, and any
 * generated ::before text) against its effective background: the element's and its ancestors'
 * background colours composited over the white canvas.
 */
export function contrastAudit(): ContrastCheck[] {
  const w = globalThis as unknown as DomWindow;
  type Rgba = [number, number, number, number];
  const parse = (c: string): Rgba => {
    const m = /rgba?\(([^)]+)\)/.exec(c) ?? /color\(srgb ([^)]+)\)/.exec(c);
    if (!m) throw new Error(`unreadable colour ${c}`);
    const parts = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
    const scale = c.startsWith('color(') ? 255 : 1;
    return [parts[0]! * scale, parts[1]! * scale, parts[2]! * scale, parts[3] ?? 1];
  };
  const over = (top: Rgba, bottom: Rgba): Rgba => {
    const a = top[3];
    return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
  };
  const background = (e: DomElement): Rgba => {
    const layers: Rgba[] = [];
    for (let el: DomElement | null = e; el; el = el.parentElement) {
      const c = parse(w.getComputedStyle(el).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reduceRight<Rgba>((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  };
  const luminance = (c: Rgba) => {
    const ch = (v: number) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
  };
  const ratio = (a: Rgba, b: Rgba) => {
    const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
    return (l1 + 0.05) / (l2 + 0.05);
  };
  const hex = (c: Rgba) => `#${c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  const shown = (e: DomElement) => {
    const r = e.getBoundingClientRect();
    // Off-screen (the skip link until focused) or clipped to a pixel (screen-reader-only text): not seen.
    if (r.width <= 1 || r.height <= 1 || r.right <= 0 || r.bottom <= 0) return false;
    for (let el: DomElement | null = e; el; el = el.parentElement) {
      const s = w.getComputedStyle(el);
      if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return false;
    }
    return true;
  };
  const where = (e: DomElement) => {
    const cls = (e.getAttribute('class') ?? '').trim();
    const section = e.closest('section[aria-labelledby]');
    const label = section ? w.document.getElementById(section.getAttribute('aria-labelledby')!)?.textContent?.trim() : null;
    return `${e.tagName.toLowerCase()}${cls ? '.' + cls.split(/\s+/).join('.') : ''}${label ? ` in "${label}"` : ''}`;
  };
  const check = (e: DomElement, style: DomStyle, text: string): ContrastCheck => {
    const bg = background(e);
    const fg = over(parse(style.color), bg);
    const fontSize = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const large = fontSize >= 24 || (fontSize >= 18.66 && bold);
    return { text, where: where(e), ratio: Math.round(ratio(fg, bg) * 100) / 100, required: large ? 3 : 4.5, fg: hex(fg), bg: hex(bg), fontSize, bold };
  };
  const out: ContrastCheck[] = [];
  const all = w.document.body.querySelectorAll('*');
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!;
    if (['STYLE', 'SCRIPT', 'TITLE'].includes(e.tagName)) continue;
    let own = '';
    for (let j = 0; j < e.childNodes.length; j++) if (e.childNodes[j]!.nodeType === 3) own += e.childNodes[j]!.textContent ?? '';
    own = own.replace(/\s+/g, ' ').trim();
    const before = w.getComputedStyle(e, '::before');
    const generated = /^"(.+)"$/.exec(before.content)?.[1] ?? '';
    if ((own === '' && generated.trim() === '') || !shown(e)) continue;
    if (own !== '') out.push(check(e, w.getComputedStyle(e), own));
    if (generated.trim() !== '') out.push(check(e, before, generated.trim()));
  }
  return out;
}

export interface Structure {
  landmarks: { main: number; header: number; footer: number };
  headings: Array<{ level: number; text: string }>;
  /** Each section with aria-labelledby: whether it names an h2 inside that section, and that heading's text. */
  sections: Array<{ labelledby: string; heading: string | null; tag: string | null; inside: boolean }>;
}

export function structure(): Structure {
  const w = globalThis as unknown as DomWindow;
  const list = (s: string) => {
    const found = w.document.querySelectorAll(s);
    const out: DomElement[] = [];
    for (let i = 0; i < found.length; i++) out.push(found[i]!);
    return out;
  };
  return {
    // A header or footer inside main or a section is no landmark: only the body's own count.
    landmarks: { main: list('main').length, header: list('body > header').length, footer: list('body > footer').length },
    headings: list('h1, h2, h3, h4, h5, h6').map((h) => ({ level: Number(h.tagName.slice(1)), text: (h.textContent ?? '').trim() })),
    sections: list('section[aria-labelledby]').map((s) => {
      const id = s.getAttribute('aria-labelledby')!;
      const h = w.document.getElementById(id);
      return { labelledby: id, heading: h ? (h.textContent ?? '').trim() : null, tag: h ? h.tagName.toLowerCase() : null, inside: h !== null && h.closest('section') === s };
    }),
  };
}

export interface Focused {
  tag: string;
  action: string | null;
  href: string | null;
  invoice: string | null;
  text: string;
  outlineStyle: string;
  outlineWidth: number;
  outlineColor: string;
  boxShadow: string;
  /** Contrast of the outline against what it is drawn on (the background around the element). */
  outlineContrast: number | null;
  inViewport: boolean;
}

/** The element that has focus, and how its focus is drawn. */
export function focused(): Focused | null {
  const w = globalThis as unknown as DomWindow;
  const e = w.document.activeElement;
  if (!e || e === w.document.body) return null;
  type Rgba = [number, number, number, number];
  const parse = (c: string): Rgba => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return [0, 0, 0, 0];
    const p = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0]!, p[1]!, p[2]!, p[3] ?? 1];
  };
  const luminance = (c: Rgba) => {
    const ch = (v: number) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
  };
  let around: Rgba = [255, 255, 255, 1];
  for (let el = e.parentElement; el; el = el.parentElement) {
    const c = parse(w.getComputedStyle(el).backgroundColor);
    if (c[3] >= 1) {
      around = c;
      break;
    }
  }
  const s = w.getComputedStyle(e);
  const outline = parse(s.outlineColor);
  const [l1, l2] = [luminance(outline), luminance(around)].sort((a, b) => b - a) as [number, number];
  const r = e.getBoundingClientRect();
  const inv = e.closest('[data-invoice]');
  return {
    tag: e.tagName.toLowerCase(),
    action: e.getAttribute('data-action'),
    href: e.getAttribute('href'),
    invoice: inv ? inv.getAttribute('data-invoice') : null,
    text: (e.textContent ?? '').replace(/\s+/g, ' ').trim(),
    outlineStyle: s.outlineStyle,
    outlineWidth: parseFloat(s.outlineWidth) || 0,
    outlineColor: s.outlineColor,
    boxShadow: s.boxShadow,
    // Chromium's own `auto` ring is drawn in two colours to stand out on any background.
    outlineContrast: s.outlineStyle === 'solid' && outline[3] > 0 ? Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100 : null,
    inViewport: r.left >= 0 && r.top >= 0 && r.right <= w.innerWidth && r.width > 1,
  };
}

/** The action links in document order: what Tab must reach. */
export function actionLinks(): Array<{ action: string; href: string; invoice: string | null }> {
  const w = globalThis as unknown as DomWindow;
  const found = w.document.querySelectorAll('a[data-action]');
  const out: Array<{ action: string; href: string; invoice: string | null }> = [];
  for (let i = 0; i < found.length; i++) {
    const a = found[i]!;
    out.push({ action: a.getAttribute('data-action')!, href: a.getAttribute('href')!, invoice: a.closest('[data-invoice]')?.getAttribute('data-invoice') ?? null });
  }
  return out;
}

export interface Reflow {
  scrollWidth: number;
  clientWidth: number;
  /** Visible text or links that reach past either edge of the viewport. */
  cutOff: string[];
}

/** Whether the page fits its viewport's width: nothing to scroll sideways, nothing cut off at an edge. */
export function reflow(): Reflow {
  const w = globalThis as unknown as DomWindow;
  const root = w.document.documentElement;
  const cutOff: string[] = [];
  const all = w.document.body.querySelectorAll('h1, h2, p, dt, dd, td, li > span, a, .pill');
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!;
    const r = e.getBoundingClientRect();
    // The skip link waits off-screen until focused; screen-reader-only text is a pixel wide.
    if (r.width <= 1 || e.getAttribute('class') === 'skip') continue;
    if (r.left < 0 || r.right > root.clientWidth + 0.5) cutOff.push(`${e.tagName.toLowerCase()} "${(e.textContent ?? '').trim().slice(0, 40)}" ${Math.round(r.left)}–${Math.round(r.right)}`);
  }
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, cutOff };
}

/** Children of a `dl` that HTML does not allow there (only dt/dd groups, or divs wrapping them). */
export function definitionListStrays(): string[] {
  const w = globalThis as unknown as DomWindow;
  const lists = w.document.querySelectorAll('dl');
  const out: string[] = [];
  for (let i = 0; i < lists.length; i++) {
    const kids = lists[i]!.querySelectorAll(':scope > *');
    for (let j = 0; j < kids.length; j++) {
      const k = kids[j]!;
      if (!['DT', 'DD', 'DIV', 'SCRIPT', 'TEMPLATE'].includes(k.tagName)) out.push(`<${k.tagName.toLowerCase()}> "${(k.textContent ?? '').trim()}"`);
    }
  }
  return out;
}
