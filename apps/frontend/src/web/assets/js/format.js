// How numbers, times and URLs read on screen. Pure functions of their input.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const preciseTime = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
});
const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const hourLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const number = new Intl.NumberFormat();

export const STATUSES = ['pending', 'queued', 'running', 'completed', 'failed'];
export const ACTIVE_STATUSES = new Set(['pending', 'queued', 'running']);

export const STATUS_LABELS = {
  pending: 'Pending',
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
};

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** "22 Nov 2026, 13:30:41.123": stages of a small repository take milliseconds, so show them. */
export function formatPreciseDateTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return `${dayOnly.format(date)}, ${preciseTime.format(date)}`;
}

export function formatTime(date) {
  return timeOnly.format(date);
}

export function formatHour(iso) {
  return hourLabel.format(new Date(iso));
}

export function formatNumber(value) {
  return value === null || value === undefined ? '—' : number.format(Number(value));
}

/** 1536 → "1.5 KiB": binary units, as storage consoles count them. */
export function formatBytes(value) {
  if (value === null || value === undefined) return '—';
  let bytes = Number(value);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (bytes >= 1024 && unit < units.length - 1) {
    bytes /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || bytes >= 100 ? 0 : bytes >= 10 ? 1 : 2;
  return `${bytes.toFixed(digits)} ${units[unit]}`;
}

/** 850 → "850 ms", 12_300 → "12.3 s", 245_000 → "4 min 05 s", 3_720_000 → "1 h 02 min". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const value = Math.max(0, Math.round(ms));
  if (value < 1000) return `${value} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
  const totalSeconds = Math.round(value / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

/** "3 min ago", for the "created" column; exact time goes in the tooltip. */
export function formatRelative(iso, now = Date.now()) {
  if (!iso) return '—';
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return formatDateTime(iso);
}

/** "https://github.com/owner/repo.git" → "github.com/owner/repo". */
export function shortUrl(url) {
  try {
    const parsed = new URL(url);
    const path = parsed.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
    return `${parsed.host}${path}`;
  } catch {
    return url;
  }
}

export function shortCommit(commit) {
  return commit ? commit.slice(0, 12) : '—';
}

/** Total time of an archive: finished ones from the API, active ones as "so far". */
export function elapsed(archive, now = Date.now()) {
  if (archive.durations?.totalMs !== null && archive.durations?.totalMs !== undefined) return archive.durations.totalMs;
  if (archive.finishedAt) return new Date(archive.finishedAt).getTime() - new Date(archive.createdAt).getTime();
  return now - new Date(archive.createdAt).getTime();
}
