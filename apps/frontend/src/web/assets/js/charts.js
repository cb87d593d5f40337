// Hand-written charts, small enough to read in one sitting. Bars are HTML (real text, crisp
// at any width); the hourly chart is SVG drawn at the container's pixel width so its labels
// never shrink on a phone. Every chart also offers its numbers as a table.
import { h, svg, mount, uid } from './dom.js';

/**
 * Horizontal bars: rows of {label, value, text, className}. `text` is what the value reads as
 * ("12", "3.2 s"); bars share one scale, the largest value filling the track.
 */
export function barList(rows, { label }) {
  const max = Math.max(0, ...rows.map((row) => row.value ?? 0));
  return h(
    'ul',
    { class: 'bars', 'aria-label': label },
    rows.map((row) => {
      const fill = h('span', { class: `bar-fill ${row.className ?? ''}` });
      // Data-driven width via CSSOM (allowed by the CSP, unlike style="" attributes).
      fill.style.width = max > 0 && row.value ? `${Math.max(1.5, (row.value / max) * 100)}%` : '0';
      return h(
        'li',
        { class: 'bar-row' },
        h('span', { class: 'bar-label' }, row.label),
        h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'bar-value' }, row.text),
      );
    }),
  );
}

/** Grouped bars for stage durations: per group, a mean and a p95 bar on a shared scale. */
export function groupedBars(groups, { label, series }) {
  const max = Math.max(0, ...groups.flatMap((group) => group.values.map((v) => v ?? 0)));
  const legend = h(
    'ul',
    { class: 'legend', 'aria-hidden': 'true' },
    series.map((s) => h('li', {}, h('span', { class: `legend-swatch ${s.className}` }), s.label)),
  );
  return h(
    'div',
    {},
    legend,
    h(
      'ul',
      { class: 'bars bars-grouped', 'aria-label': label },
      groups.map((group) =>
        h(
          'li',
          { class: 'bar-group' },
          h('span', { class: 'bar-label' }, group.label),
          h(
            'span',
            { class: 'bar-stack' },
            series.map((s, index) => {
              const value = group.values[index];
              const fill = h('span', { class: `bar-fill ${s.className}` });
              fill.style.width = max > 0 && value ? `${Math.max(1.5, (value / max) * 100)}%` : '0';
              return h(
                'span',
                { class: 'bar-line' },
                h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
                h('span', { class: 'bar-value' }, h('span', { class: 'visually-hidden' }, `${s.label}: `), group.texts[index]),
              );
            }),
          ),
        ),
      ),
    ),
  );
}

/**
 * Columns over time: points of {label, value}. Redrawn when the container resizes, so the
 * chart fills the card at any width with readable text.
 */
export function columnChart(points, { label, valueText }) {
  const titleId = uid('chart-title');
  const container = h('div', { class: 'column-chart' });
  const draw = () => {
    const width = Math.max(260, Math.floor(container.clientWidth));
    const height = 200;
    const pad = { top: 16, right: 8, bottom: 28, left: 32 };
    const max = Math.max(1, ...points.map((p) => p.value));
    const ticks = niceTicks(max);
    const top = ticks[ticks.length - 1];
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const step = plotW / points.length;
    const barW = Math.max(2, step * 0.68);
    const y = (v) => pad.top + plotH - (v / top) * plotH;
    // Label every n-th column so labels never collide.
    const every = Math.ceil(points.length / Math.max(1, Math.floor(plotW / 44)));
    mount(
      container,
      svg(
        'svg',
        { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId, class: 'chart-svg' },
        svg('title', { id: titleId }, label),
        ticks.map((t) => [
          svg('line', { x1: pad.left, x2: width - pad.right, y1: y(t), y2: y(t), class: 'grid-line' }),
          svg('text', { x: pad.left - 6, y: y(t) + 4, class: 'axis-text', 'text-anchor': 'end' }, String(t)),
        ]),
        points.map((p, i) => {
          const x = pad.left + i * step + (step - barW) / 2;
          const barH = (p.value / top) * plotH;
          return [
            p.value > 0
              ? svg(
                  'rect',
                  { x, y: y(p.value), width: barW, height: barH, rx: Math.min(3, barW / 3), class: 'column' },
                  svg('title', {}, `${p.label}: ${valueText(p.value)}`),
                )
              : null,
            i % every === 0 ? svg('text', { x: x + barW / 2, y: height - 8, class: 'axis-text', 'text-anchor': 'middle' }, p.label) : null,
          ];
        }),
      ),
    );
  };
  new ResizeObserver(() => draw()).observe(container);
  return container;
}

function niceTicks(max) {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? magnitude * 10;
  const stepInt = Math.max(1, Math.round(step));
  const ticks = [];
  for (let t = 0; t <= max + stepInt - 1 && ticks.length < 8; t += stepInt) ticks.push(t);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + stepInt);
  return ticks;
}

/** The chart's numbers as a table, folded away by default. */
export function dataTable(caption, headers, rows) {
  return h(
    'details',
    { class: 'chart-data' },
    h('summary', {}, 'Show the numbers'),
    h(
      'table',
      { class: 'table table-compact' },
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((text) => h('th', { scope: 'col' }, text)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((text, i) => (i === 0 ? h('th', { scope: 'row' }, text) : h('td', {}, text))),
          ),
        ),
      ),
    ),
  );
}
