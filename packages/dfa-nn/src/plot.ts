/** Minimal SVG plots for benchmark results: no dependency, deterministic output. */

export interface Series {
  label: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** 'dots' for a scatter, 'line' for a curve, 'steps' for a histogram. */
  style: 'dots' | 'line' | 'steps';
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceTicks(min: number, max: number, count = 5): number[] {
  const step = 10 ** Math.floor(Math.log10((max - min) / count));
  const unit = [1, 2, 5, 10].map((k) => k * step).find((s) => (max - min) / s <= count) ?? 10 * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / unit) * unit; t <= max + 1e-12; t += unit) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

export function plot(series: Series[], options: PlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  const margin = { left: 70, right: 20, top: 40, bottom: 55 };
  const fy = (v: number) => (options.logY ? Math.log10(v) : v);
  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMin = Number.POSITIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i]!;
      if (options.logY && !(y > 0)) continue;
      xMin = Math.min(xMin, s.x[i]!);
      xMax = Math.max(xMax, s.x[i]!);
      yMin = Math.min(yMin, fy(y));
      yMax = Math.max(yMax, fy(y));
    }
  }
  const sx = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * (width - margin.left - margin.right);
  const sy = (y: number) =>
    height - margin.bottom - ((fy(y) - yMin) / (yMax - yMin)) * (height - margin.top - margin.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${esc(options.title)}</text>`,
    `<text x="${width / 2}" y="${height - 12}" text-anchor="middle">${esc(options.xLabel)}</text>`,
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`,
  ];
  for (const t of niceTicks(xMin, xMax)) {
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#eee"/>`,
      `<text x="${sx(t)}" y="${height - margin.bottom + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  for (const t of niceTicks(yMin, yMax)) {
    const y = options.logY ? 10 ** t : t;
    const label = options.logY ? `1e${t}` : `${t}`;
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>`,
      `<text x="${margin.left - 6}" y="${sy(y) + 4}" text-anchor="end">${label}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" ` +
      `height="${height - margin.top - margin.bottom}" fill="none" stroke="#333"/>`,
  );
  series.forEach((s, k) => {
    const points: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      if (options.logY && !(s.y[i]! > 0)) continue;
      points.push(`${sx(s.x[i]!).toFixed(1)},${sy(s.y[i]!).toFixed(1)}`);
    }
    if (s.style === 'dots') {
      for (const p of points) {
        const [x, y] = p.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="1.2" fill="${s.color}" fill-opacity="0.5"/>`);
      }
    } else {
      const path =
        s.style === 'steps'
          ? points.map((p, i) => (i ? `H${p.split(',')[0]} V${p.split(',')[1]}` : `M${p}`))
          : points.map((p, i) => `${i ? 'L' : 'M'}${p}`);
      parts.push(`<path d="${path.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    }
    const ly = margin.top + 16 + 16 * k;
    parts.push(
      `<rect x="${width - margin.right - 190}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${width - margin.right - 175}" y="${ly}">${esc(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
