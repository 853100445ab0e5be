// The live page of the kad WebFlux example. It calls only the application's HTTP API
// (GET /node, PUT and GET /keys/{key}, GET /keys/{key}/watch, GET /lookups/{id}), by
// relative URLs so that it works under a context path too. Every value shown comes from
// the network, so it is set as text (textContent), never parsed as HTML.
'use strict';

const $ = (id) => document.getElementById(id);

/** A form's field by name (form.id would be the form's own id attribute). */
const field = (form, name) => form.elements.namedItem(name);

/**
 * A key as one path segment. A browser resolves '.' and '..' away, escaped or not, so those two
 * keys are refused here (curl --path-as-is reaches them).
 */
function keyPath(key) {
  if (key === '.' || key === '..') {
    throw new Error(`a browser cannot name the key '${key}' in a URL`);
  }
  return 'keys/' + encodeURIComponent(key);
}

/** "1 value", "2 values". */
const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** One table row of text cells. */
function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    td.textContent = cell === null || cell === undefined ? '' : String(cell);
    tr.appendChild(td);
  }
  return tr;
}

/** A value as one list item: its text (or base64 when not UTF-8), publisher and seq. */
function valueItem(value, prefix) {
  const li = document.createElement('li');
  const data = document.createElement('span');
  data.className = 'data';
  data.textContent = value.text !== null ? value.text : 'base64:' + value.data;
  const meta = document.createElement('span');
  meta.className = 'muted';
  meta.textContent = ` ${prefix}publisher ${value.publisher.slice(0, 8)}, value id ${value.valueId},`
      + ` seq ${value.seq}, expires ${value.expiresAt}`;
  li.append(data, meta);
  return li;
}

/** The message of an error answer: a problem's detail, or the status. */
async function problemOf(response) {
  try {
    const problem = await response.json();
    return `${response.status} ${problem.title || ''}: ${problem.detail || ''}`;
  } catch (e) {
    return `${response.status} ${response.statusText}`;
  }
}

function show(element, text, kind) {
  element.textContent = text;
  element.className = 'result ' + (kind || '');
}

// --- the node and its routing table, refreshed every 5 s ----------------------------------

let idHexDigits = 40;

async function refreshNode() {
  try {
    const response = await fetch('node', {headers: {Accept: 'application/json'}});
    if (!response.ok) {
      show($('node-summary'), 'node: ' + await problemOf(response), 'error');
      return;
    }
    const node = await response.json();
    idHexDigits = node.id.length;
    $('node-id').textContent = node.id;
    $('node-summary').textContent = `at ${node.address}: ${count(node.contacts, 'contact')},`
        + ` ${count(node.storedValues, 'value')} stored (${node.storedBytes} bytes), last heard from`
        + ` its network ${node.lastHeard === null ? 'never' : node.lastHeard}`;
    $('node-summary').className = 'muted';
    $('buckets').replaceChildren(...node.buckets.map(
        (b) => row([b.depth, b.prefix, b.contacts, b.replacements])));
  } catch (e) {
    show($('node-summary'), 'the application does not answer: ' + e.message, 'error');
  }
}

// --- put ---------------------------------------------------------------------------------

$('put-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const out = $('put-result');
  show(out, 'storing…');
  try {
    const response = await fetch(keyPath(field(form, 'key').value), {
      method: 'PUT',
      headers: {'Content-Type': 'text/plain; charset=utf-8', Accept: 'application/json'},
      body: field(form, 'value').value,
    });
    if (!response.ok) {
      show(out, await problemOf(response), 'error');
      return;
    }
    const result = await response.json();
    const refused = result.rejected.map((r) => `${r.node} (${r.reason})`);
    show(out, `seq ${result.seq}: accepted by ${result.accepted.length}`
        + (refused.length ? `, refused by ${refused.join(', ')}` : '')
        + (result.failed.length ? `, no answer from ${result.failed.length}` : ''), 'ok');
  } catch (e) {
    show(out, e.message, 'error');
  }
});

// --- get: values as they arrive (NDJSON) ---------------------------------------------------

let getting = null;

$('get-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  // A get still streaming would append its values under this one's.
  if (getting !== null) {
    getting.abort();
  }
  const aborted = new AbortController();
  getting = aborted;
  const out = $('get-status');
  const list = $('get-values');
  list.replaceChildren();
  show(out, 'looking up…');
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let values = 0;
  try {
    const response = await fetch(keyPath(field(event.target, 'key').value),
        {headers: {Accept: 'application/x-ndjson'}, signal: aborted.signal});
    if (!response.ok) {
      show(out, await problemOf(response), 'error');
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) {
        break;
      }
      buffered += value;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines.filter((l) => l.trim() !== '')) {
        values++;
        list.appendChild(valueItem(JSON.parse(line), `after ${elapsed()} ms: `));
      }
    }
    show(out, values === 0 ? `no value (${elapsed()} ms)` : `${count(values, 'value')} in ${elapsed()} ms`,
        'ok');
  } catch (e) {
    if (!aborted.signal.aborted) {
      show(out, e.message, 'error');
    }
  }
});

// --- watch: server-sent events until stopped ------------------------------------------------

let watching = null;

function stopWatching(message) {
  if (watching !== null) {
    watching.close();
    watching = null;
  }
  $('watch-stop').disabled = true;
  if (message) {
    show($('watch-status'), message);
  }
}

$('watch-form').addEventListener('submit', (event) => {
  event.preventDefault();
  stopWatching();
  const key = field(event.target, 'key').value;
  const list = $('watch-values');
  list.replaceChildren();
  let path;
  try {
    path = keyPath(key);
  } catch (e) {
    show($('watch-status'), e.message, 'error');
    return;
  }
  show($('watch-status'), 'subscribing…');
  const source = new EventSource(path + '/watch');
  watching = source;
  $('watch-stop').disabled = false;
  source.onopen = () => {
    // A reconnect is a new watch, which sends the current values first again.
    list.replaceChildren();
    show($('watch-status'), `watching '${key}'`, 'ok');
  };
  source.addEventListener('value', (e) => {
    list.prepend(valueItem(JSON.parse(e.data), new Date().toLocaleTimeString() + ': '));
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      // A refusal (a 4xx: a bad key, too many watches) closes the source for good.
      stopWatching();
      show($('watch-status'), 'the watch was refused or ended: try again later', 'error');
    } else {
      show($('watch-status'), 'the connection dropped, reconnecting…', 'error');
    }
  };
});

$('watch-stop').addEventListener('click', () => stopWatching('stopped'));

// --- lookup trace: server-sent events until the lookup finishes ---------------------------

let tracing = null;

$('lookup-random').addEventListener('click', () => {
  const bytes = crypto.getRandomValues(new Uint8Array(idHexDigits / 2));
  field($('lookup-form'), 'id').value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
});

$('lookup-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (tracing !== null) {
    tracing.close();
  }
  const id = field(event.target, 'id').value.trim().toLowerCase();
  const out = $('lookup-status');
  const table = $('lookup-events');
  table.replaceChildren();
  if (id.length !== idHexDigits) {
    show(out, `a target id is ${idHexDigits} hex digits, not ${id.length}`, 'error');
    return;
  }
  show(out, 'tracing…');
  const source = new EventSource('lookups/' + id);
  tracing = source;
  let finished = false;
  for (const type of ['queried', 'answered', 'stalled', 'failed', 'closer', 'finished']) {
    source.addEventListener(type, (e) => {
      const step = JSON.parse(e.data);
      const tr = row([step.elapsedMs, step.type, step.contact, step.hop, step.detail]);
      tr.className = step.type;
      table.appendChild(tr);
      if (step.type === 'finished') {
        // The server ends the stream now; closing keeps EventSource from starting it again.
        finished = true;
        source.close();
        show(out, step.detail, 'ok');
      }
    });
  }
  source.onerror = () => {
    // Never reconnect: that would run a new lookup.
    source.close();
    if (!finished) {
      show(out, 'the lookup was refused or ended early (too many lookups, or shutting down)',
          'error');
    }
  };
});

refreshNode();
setInterval(refreshNode, 5000);
