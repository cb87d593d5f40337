// "/stats": where the archives stand, how many arrive, what is stored, and how long each stage takes.
import { barList, columnChart, dataTable, groupedBars } from '../charts.js';
import { notice, spinner } from '../components.js';
import { h, mount } from '../dom.js';
import { STATUSES, STATUS_LABELS, formatBytes, formatDuration, formatHour, formatNumber, formatTime } from '../format.js';
import { poll } from '../poller.js';

const REFRESH_MS = 5000;
const STAGES = [
  ['wait', 'Waiting for the injector'],
  ['inject', 'Waiting for a worker'],
  ['run', 'Cloning and uploading'],
  ['total', 'Submission to outcome'],
];

export function statsPage(view, ctx) {
  ctx.setTitle('Statistics');
  const scope = ctx.session.isAdmin ? 'Everyone’s archives (you are an admin).' : 'Your archives.';
  const updated = h('span', { class: 'live-indicator' }, 'Loading…');
  const body = h('div', {}, spinner('Loading statistics…'));
  mount(
    view,
    h(
      'div',
      { class: 'page-head' },
      h('div', { class: 'page-head-row' }, h('h1', {}, 'Statistics'), updated),
      h('p', { class: 'lead' }, scope),
    ),
    body,
  );

  let lastSignature;
  const poller = poll(async () => {
    let stats;
    try {
      stats = await ctx.api.stats();
    } catch (error) {
      mount(body, notice('error', `Could not load statistics: ${error.message}`));
      throw error;
    }
    mount(updated, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), `Live · updated ${formatTime(new Date())}`);
    const signature = JSON.stringify(stats);
    if (signature !== lastSignature) {
      lastSignature = signature;
      mount(body, render(stats));
    }
  }, REFRESH_MS);
  return () => poller.stop();
}

function render(stats) {
  const total = STATUSES.reduce((sum, status) => sum + (stats.counts[status] ?? 0), 0);
  const kpi = (label, value, sub) =>
    h(
      'div',
      { class: 'kpi' },
      h('span', { class: 'kpi-label' }, label),
      h('span', { class: 'kpi-value' }, value),
      sub ? h('span', { class: 'kpi-sub' }, sub) : null,
    );
  const done = (stats.counts.completed ?? 0) + (stats.counts.failed ?? 0);
  const successRate =
    done > 0 ? `${Math.round(((stats.counts.completed ?? 0) / done) * 100)}% of finished ones succeeded` : 'none finished yet';

  const hours = lastDayHours(stats.perHour);
  const perHourTotal = hours.reduce((sum, p) => sum + p.value, 0);

  return h(
    'div',
    { class: 'stats' },
    h(
      'div',
      { class: 'kpis' },
      kpi(
        'Archives',
        formatNumber(total),
        `${formatNumber(stats.counts.running + stats.counts.queued + stats.counts.pending)} in progress`,
      ),
      kpi('Completed', formatNumber(stats.counts.completed), successRate),
      kpi('Stored', formatBytes(stats.totals.bytes), `${formatNumber(stats.totals.files)} files`),
      kpi(
        'Typical time',
        formatDuration(stats.stages.total.meanMs),
        stats.stages.total.p95Ms !== null ? `p95 ${formatDuration(stats.stages.total.p95Ms)}` : 'mean, submission to outcome',
      ),
    ),
    h(
      'div',
      { class: 'chart-grid' },
      chartCard(
        'By status',
        barList(
          STATUSES.map((status) => ({
            label: STATUS_LABELS[status],
            value: stats.counts[status],
            text: formatNumber(stats.counts[status]),
            className: `fill-${status}`,
          })),
          { label: 'Archives by status' },
        ),
        dataTable(
          'Archives by status',
          ['Status', 'Archives'],
          STATUSES.map((s) => [STATUS_LABELS[s], formatNumber(stats.counts[s])]),
        ),
      ),
      chartCard(
        'Time per stage',
        groupedBars(
          STAGES.map(([key, label]) => ({
            label,
            values: [stats.stages[key].meanMs, stats.stages[key].p95Ms],
            texts: [formatDuration(stats.stages[key].meanMs), formatDuration(stats.stages[key].p95Ms)],
          })),
          {
            label: 'Mean and 95th percentile duration of each stage, completed archives',
            series: [
              { label: 'Mean', className: 'fill-mean' },
              { label: '95th percentile', className: 'fill-p95' },
            ],
          },
        ),
        dataTable(
          'Stage durations',
          ['Stage', 'Mean', 'p95'],
          STAGES.map(([key, label]) => [label, formatDuration(stats.stages[key].meanMs), formatDuration(stats.stages[key].p95Ms)]),
        ),
      ),
    ),
    chartCard(
      'Archives per hour',
      h('p', { class: 'hint' }, `Submissions in the last 24 hours: ${formatNumber(perHourTotal)}.`),
      columnChart(hours, {
        label: `Archives submitted per hour over the last 24 hours, ${perHourTotal} in total`,
        valueText: (v) => `${v} archive${v === 1 ? '' : 's'}`,
      }),
      dataTable(
        'Archives per hour',
        ['Hour starting', 'Archives'],
        hours.filter((p) => p.value > 0).map((p) => [p.label, formatNumber(p.value)]),
      ),
    ),
  );
}

function chartCard(title, ...content) {
  return h('section', { class: 'card chart-card' }, h('h2', { class: 'card-title' }, title), content);
}

/** The API leaves out empty hours; the chart shows all 24, oldest first, ending with the current hour. */
function lastDayHours(perHour) {
  const counts = new Map(perHour.map((p) => [new Date(p.hour).getTime(), p.count]));
  const current = new Date();
  current.setUTCMinutes(0, 0, 0);
  const points = [];
  for (let i = 23; i >= 0; i--) {
    const hour = current.getTime() - i * 3600_000;
    points.push({ label: formatHour(new Date(hour).toISOString()), value: counts.get(hour) ?? 0 });
  }
  return points;
}
