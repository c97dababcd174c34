// The page of `semvec serve`: the collections with their counts, a query
// box (text, embedded by the collection's semvec model, or a pasted
// vector) with a `where` filter, and a 2-D PCA projection of a sample of a
// collection's embeddings coloured by a metadata field. It uses the same
// Chroma API v2 as any client; text from the data is only ever set as text.
import { pca2 } from './pca.js';

const DB = '/api/v2/tenants/default_tenant/databases/default_database';
const SAMPLE = 500;
const CHUNK = 100;
const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#9333ea', '#ea580c'];
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
let current; // the selected collection's JSON
let sample = { ids: [], embeddings: [], metadatas: [] };

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(json && json.message ? json.message : `${res.status} ${res.statusText}`);
  return json;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function loadCollections() {
  const [version, list] = await Promise.all([api('GET', '/api/v2/version'), api('GET', `${DB}/collections?limit=1000`)]);
  $('server').textContent = `semvec ${version} · Chroma API v2`;
  const body = $('collections').tBodies[0];
  body.replaceChildren();
  $('collections-empty').hidden = list.length > 0;
  const counts = await Promise.all(list.map((c) => api('GET', `${DB}/collections/${c.id}/count`)));
  list.forEach((c, i) => {
    const row = body.insertRow();
    row.dataset.id = c.id;
    cell(row, c.name);
    cell(row, counts[i].toLocaleString('en'), 'num');
    cell(row, c.dimension === null ? '–' : String(c.dimension), 'num');
    cell(row, c.configuration_json?.hnsw?.space ?? 'cosine');
    row.addEventListener('click', () => select(c, row));
  });
  if (list.length > 0 && !current) select(list[0], body.rows[0]);
}

async function select(col, row) {
  current = col;
  for (const r of $('collections').tBodies[0].rows) r.classList.toggle('selected', r === row);
  $('collection-panel').hidden = false;
  const model = col.configuration_json?.embedding_function?.config?.model;
  $('collection-title').textContent = `${col.name}${model ? ` · model ${model}` : ''}`;
  $('results').hidden = true;
  $('query-error').hidden = true;
  await loadSample(col);
}

/** Up to SAMPLE records: chunks from random offsets (all of them for a small collection). */
async function loadSample(col) {
  const count = await api('GET', `${DB}/collections/${col.id}/count`);
  const chunks = Math.min(Math.ceil(count / CHUNK), SAMPLE / CHUNK);
  const offsets = new Set();
  if (count <= SAMPLE) for (let o = 0; o < count; o += CHUNK) offsets.add(o);
  else while (offsets.size < chunks) offsets.add(Math.floor(Math.random() * Math.floor(count / CHUNK)) * CHUNK);
  const parts = await Promise.all([...offsets].map((offset) => api('POST', `${DB}/collections/${col.id}/get`, { limit: CHUNK, offset, include: ['embeddings', 'metadatas'] })));
  sample = { ids: parts.flatMap((p) => p.ids), embeddings: parts.flatMap((p) => p.embeddings), metadatas: parts.flatMap((p) => p.metadatas) };
  const keys = new Set();
  for (const m of sample.metadatas) for (const k of Object.keys(m ?? {})) keys.add(k);
  const select = $('colour-by');
  const previous = select.value;
  select.replaceChildren(new Option('(none)', ''));
  for (const k of [...keys].sort()) select.add(new Option(k, k));
  select.value = keys.has(previous) ? previous : ([...keys].sort()[0] ?? '');
  $('projection-info').textContent = `${sample.ids.length.toLocaleString('en')} of ${count.toLocaleString('en')} records`;
  draw();
}

function draw() {
  const svg = $('projection');
  svg.replaceChildren();
  $('legend').replaceChildren();
  if (sample.embeddings.length < 2) return;
  const { points, explained } = pca2(sample.embeddings);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const W = 640, H = 420, M = 20;
  const sx = (x) => M + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * M);
  const sy = (y) => H - M - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * M);
  const field = $('colour-by').value;
  const values = field ? [...new Set(sample.metadatas.map((m) => m?.[field]).filter((v) => v !== undefined))] : [];
  values.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  const numeric = values.length > PALETTE.length && values.every((v) => typeof v === 'number');
  const colourOf = (v) => {
    if (v === undefined || !field) return '#9aa4b2';
    if (numeric) {
      const [lo, hi] = [values[0], values[values.length - 1]];
      const t = hi === lo ? 0.5 : (v - lo) / (hi - lo);
      return `hsl(${Math.round(220 - 220 * t)}, 70%, 45%)`;
    }
    const i = values.indexOf(v);
    return i < PALETTE.length ? PALETTE[i] : '#9aa4b2';
  };
  points.forEach((p, i) => {
    const c = document.createElementNS(SVG, 'circle');
    c.setAttribute('cx', sx(p[0]).toFixed(1));
    c.setAttribute('cy', sy(p[1]).toFixed(1));
    c.setAttribute('r', '4');
    const v = sample.metadatas[i]?.[field];
    c.setAttribute('fill', colourOf(v));
    c.dataset.id = sample.ids[i];
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${sample.ids[i]}${field ? ` · ${field}: ${v === undefined ? '–' : v}` : ''}`;
    c.append(title);
    svg.append(c);
  });
  const axis = document.createElementNS(SVG, 'text');
  axis.setAttribute('x', String(M));
  axis.setAttribute('y', String(H - 4));
  axis.setAttribute('font-size', '11');
  axis.setAttribute('fill', '#5b6470');
  axis.textContent = `PC1 ${(explained[0] * 100).toFixed(1)}% · PC2 ${(explained[1] * 100).toFixed(1)}% of variance`;
  svg.append(axis);
  const legend = $('legend');
  const shown = numeric ? [values[0], values[values.length - 1]] : values.slice(0, PALETTE.length);
  for (const v of shown) {
    const li = document.createElement('li');
    li.style.setProperty('--swatch', colourOf(v));
    li.textContent = numeric ? `${field} = ${v}` : String(v);
    legend.append(li);
  }
  if (!numeric && values.length > PALETTE.length) {
    const li = document.createElement('li');
    li.textContent = `${values.length - PALETTE.length} more values (grey)`;
    legend.append(li);
  }
}

/** A pasted vector ("[1, 2]" or "1, 2 3"), or undefined for text. */
function parseVector(text) {
  const t = text.trim();
  if (!/^\[?\s*-?[\d.]/.test(t)) return undefined;
  const parts = t.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
  const v = parts.map(Number);
  return v.length > 0 && v.every(Number.isFinite) ? v : undefined;
}

async function runQuery(event) {
  event.preventDefault();
  const error = $('query-error');
  error.hidden = true;
  try {
    const text = $('query').value;
    const whereText = $('where').value.trim();
    let where;
    if (whereText) {
      try {
        where = JSON.parse(whereText);
      } catch (e) {
        throw new Error(`where is not valid JSON: ${e.message}`);
      }
    }
    const vector = parseVector(text);
    const body = { n_results: Number($('n-results').value) || 10, include: ['documents', 'metadatas', 'distances'], where };
    if (vector) body.query_embeddings = [vector];
    else body.query_texts = [text];
    const r = await api('POST', `${DB}/collections/${current.id}/query`, body);
    const tbody = $('results').tBodies[0];
    tbody.replaceChildren();
    r.ids[0].forEach((id, i) => {
      const row = tbody.insertRow();
      cell(row, String(i + 1), 'num');
      cell(row, id);
      const d = r.distances[0][i];
      // semvec's score: the similarity (cosine or inner product), minus the squared distance for l2.
      const score = (current.configuration_json?.hnsw?.space ?? 'cosine') === 'l2' ? -d : 1 - d;
      cell(row, score.toFixed(4), 'num');
      cell(row, d.toFixed(4), 'num');
      const doc = r.documents[0][i] ?? '';
      cell(row, doc.length > 160 ? `${doc.slice(0, 160)}…` : doc);
      cell(row, JSON.stringify(r.metadatas[0][i] ?? {}), 'meta');
    });
    $('results').hidden = false;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

$('query-form').addEventListener('submit', runQuery);
$('colour-by').addEventListener('change', draw);
loadCollections().catch((e) => {
  $('server').textContent = `cannot reach the server: ${e.message}`;
});
