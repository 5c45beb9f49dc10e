/** HTML building blocks of the calibration report: escaping, number formats, tables, sections, the page. */
import type { Rectangle } from 'opu-core';
import { escapeXml } from './plot.js';

export const escapeHtml = escapeXml;

/** `digits` significant digits, without trailing zeros; the infinities and NaN as symbols. */
export function formatNumber(v: number, digits = 3): string {
  if (Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return `${Number(v.toPrecision(digits))}`;
}

/** An integer with narrow no-break spaces between thousands (locale-free, so the bytes never vary). */
export function formatInteger(n: number): string {
  return `${Math.round(n)}`.replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

export function formatPercent(fraction: number): string {
  return `${formatNumber(fraction * 100)} %`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return formatNumber(s);
  if (Math.abs(s) < 1e-3) return `${formatNumber(s * 1e6)} µs`;
  if (Math.abs(s) < 1) return `${formatNumber(s * 1e3)} ms`;
  if (Math.abs(s) < 120) return `${formatNumber(s)} s`;
  if (Math.abs(s) < 7200) return `${formatNumber(s / 60)} min`;
  return `${formatNumber(s / 3600)} h`;
}

export function formatRectangle(r: Rectangle, unit: string): string {
  return `${r.width} × ${r.height} ${unit} at (${r.left}, ${r.top})`;
}

/** Cells are HTML already (callers escape their text); a header row when `head` is given. */
export function table(rows: string[][], head?: string[]): string {
  const row = (cells: string[], tag: 'td' | 'th') => `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  const thead = head ? `<thead>${row(head, 'th')}</thead>` : '';
  return `<table>${thead}<tbody>${rows.map((r) => row(r, 'td')).join('')}</tbody></table>`;
}

/** Label–value rows: labels are plain text, values HTML. */
export function facts(rows: [string, string][]): string {
  return `<table class="facts"><tbody>${rows
    .map(([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${value}</td></tr>`)
    .join('')}</tbody></table>`;
}

export function figure(svg: string, caption: string): string {
  return `<figure>${svg.trimEnd()}<figcaption>${caption}</figcaption></figure>`;
}

/** A report section; `body` undefined when its step has not run, which the page says instead of hiding it. */
export function section(id: string, heading: string, body: string | undefined): string {
  const content = body ?? '<p class="not-measured">not measured</p>';
  return (
    `<section id="${id}" data-measured="${body !== undefined}">\n<h2>${escapeHtml(heading)}</h2>\n` +
    `${content}\n</section>`
  );
}

const STYLE = `
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1d2329; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 760px; margin: 0 auto; padding: 24px 24px 64px; }
header { border-bottom: 2px solid #1d2329; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
header p { margin: 0 0 12px; color: #56606b; }
h2 { font-size: 19px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 4px; }
section { background: white; border: 1px solid #dde1e6; border-radius: 6px; padding: 16px 20px; margin: 20px 0; }
section[data-measured="false"] { background: #fafbfc; color: #6b7580; }
.not-measured { font-style: italic; margin: 0; }
table { border-collapse: collapse; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid #eceff2; vertical-align: top; }
thead th { border-bottom: 1px solid #b8c0c8; font-weight: 600; }
table.facts th { font-weight: 500; color: #56606b; padding-right: 24px; }
figure { margin: 12px 0; width: 640px; max-width: 100%; overflow-x: auto; }
figure svg { display: block; border: 1px solid #eceff2; }
figcaption { font-size: 13px; color: #56606b; margin-top: 6px; }
.verdict { display: inline-block; font-weight: 700; letter-spacing: 0.04em; padding: 2px 10px; border-radius: 4px; }
.verdict.bad { background: #fde8e8; color: #a11a1a; border: 1px solid #e9a3a3; }
.verdict.good { background: #e5f5ea; color: #1b6b34; border: 1px solid #9fd3ae; }
.muted { color: #6b7580; }
`;

export function page(title: string, subtitle: string, sections: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header>\n<h1>${escapeHtml(title)}</h1>\n<p>${subtitle}</p>\n</header>`,
    ...sections,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
