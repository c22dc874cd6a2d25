/* global window, document, EventSource */
// Progressive enhancement for the web pages: every page works without this file.
// - [data-balance-stream]: live balance from server-sent events (amounts arrive formatted), and
//   the calls-in-progress rows ([data-live-calls]) when the page has them
// - [data-dashboard-stream]: live console dashboard figures
// - form[data-confirm]: ask before a destructive action
'use strict';

function setFields(root, data) {
  for (const el of root.querySelectorAll('[data-field]')) {
    const v = data[el.getAttribute('data-field')];
    if (typeof v === 'string' && el.textContent !== v) el.textContent = v;
  }
}

// rows built and escaped by the server's templates
function replaceRows(body, rowsHtml) {
  if (!body || typeof rowsHtml !== 'string') return;
  const t = document.createElement('template');
  t.innerHTML = rowsHtml;
  body.replaceChildren(t.content);
}

function listen(root, url, eventName, onData) {
  if (!('EventSource' in window)) return;
  const es = new EventSource(url);
  es.addEventListener(eventName, (e) => {
    onData(JSON.parse(e.data));
    root.setAttribute('data-live', 'on');
  });
  es.addEventListener('ended', () => es.close());
  window.addEventListener('pagehide', () => es.close());
}

document.addEventListener('DOMContentLoaded', () => {
  for (const root of document.querySelectorAll('[data-balance-stream]')) {
    listen(root, root.getAttribute('data-balance-stream'), 'balance', (d) => {
      setFields(root, d);
      replaceRows(document.querySelector('[data-live-calls]'), d.liveCallsHtml);
    });
  }
  for (const root of document.querySelectorAll('[data-dashboard-stream]')) {
    listen(root, root.getAttribute('data-dashboard-stream'), 'dashboard', (d) => {
      setFields(root, d);
      replaceRows(root.querySelector('#act-h + .table-wrap tbody'), d.activeHtml);
    });
  }
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (e) => {
      if (!window.confirm(form.getAttribute('data-confirm'))) e.preventDefault();
    });
  }
});
