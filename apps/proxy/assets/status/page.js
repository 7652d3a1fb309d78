// The status page's script: polls status.json (with the page's own credentials) and redraws the
// tables. Served as a same-origin file so that the page runs under a CSP without 'unsafe-inline';
// every value is set as text, never as HTML.
'use strict';

(function statusPage() {
  var POLL_MS = 2000;
  var dataUrl = 'status.json' + window.location.search;

  function byId(id) {
    return document.getElementById(id);
  }

  function formatBytes(bytes) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? String(value) : value.toFixed(value < 10 ? 2 : 1)) + ' ' + units[unit];
  }

  function formatDuration(ms) {
    var seconds = Math.max(0, Math.round(ms / 1000));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    if (h > 0) return h + ' h ' + m + ' min';
    if (m > 0) return m + ' min ' + s + ' s';
    return s + ' s';
  }

  function formatTime(iso) {
    var date = new Date(iso);
    return date.toLocaleTimeString([], { hour12: false }) + (date.toDateString() === new Date().toDateString() ? '' : ' ' + date.toLocaleDateString());
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined || text === '' ? '–' : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fill(tbodyId, items, columns, emptyText) {
    var tbody = byId(tbodyId);
    var rows = [];
    if (items.length === 0) {
      var row = document.createElement('tr');
      var td = cell(row, emptyText, 'empty');
      td.colSpan = columns;
      rows.push(row);
    }
    items.forEach(function (item) {
      rows.push(item);
    });
    tbody.replaceChildren.apply(tbody, rows);
  }

  function streamRow(stream) {
    var row = document.createElement('tr');
    row.dataset.id = String(stream.id);
    cell(row, stream.episode);
    cell(row, stream.client);
    cell(row, stream.route + ' ' + stream.path);
    cell(row, stream.status === null ? 'waiting' : stream.status);
    cell(row, formatBytes(stream.bytes), 'num bytes');
    cell(row, formatBytes(stream.bytesPerSecond) + '/s', 'num');
    cell(row, formatDuration(stream.durationMs), 'num');
    cell(row, stream.upstreamHost);
    cell(row, stream.refreshes, 'num');
    cell(row, stream.resumes, 'num');
    return row;
  }

  function failureRow(failure) {
    var row = document.createElement('tr');
    cell(row, formatTime(failure.time));
    cell(row, failure.episode);
    cell(row, failure.code, 'code');
    cell(row, failure.status);
    cell(row, failure.cause + (failure.upstreamHost ? ' (upstream ' + failure.upstreamHost + ')' : ''));
    cell(row, failure.route + ' ' + failure.path);
    cell(row, failure.client);
    return row;
  }

  function cacheRow(entry) {
    var row = document.createElement('tr');
    cell(row, entry.episode);
    cell(row, entry.provider);
    cell(row, entry.expiresInSeconds === null ? 'until a failure' : formatDuration(entry.expiresInSeconds * 1000), 'num');
    cell(row, formatDuration(entry.ageSeconds * 1000) + ' ago' + (entry.refreshed ? ' (refresh)' : ''));
    return row;
  }

  function showRedis(redis) {
    var target = byId('redis');
    target.replaceChildren();
    if (redis === null) {
      target.textContent = 'not configured (the resolver cache is this process\u2019s own)';
      return;
    }
    var state = document.createElement('span');
    state.className = redis.state === 'up' ? 'up' : 'down';
    state.textContent = redis.state;
    target.append(state, ' ' + redis.target + ' since ' + formatTime(redis.since) + (redis.problem ? ': ' + redis.problem : ''));
  }

  function show(status) {
    byId('version').textContent = status.version;
    byId('uptime').textContent = formatDuration(status.uptimeSeconds * 1000);
    byId('auth').textContent = status.auth;
    byId('updated').textContent = formatTime(status.now);
    byId('streams-count').textContent = '(' + status.streams.length + ')';
    fill('streams', status.streams.map(streamRow), 10, 'nothing is being streamed');
    byId('failures-count').textContent = '(' + status.failures.length + ', newest first)';
    fill('failures', status.failures.map(failureRow), 7, 'no failure since the start');
    var cache = status.resolverCache;
    if (cache.entries === null) {
      byId('cache-count').textContent = '';
      fill('cache', [], 4, 'shared in Redis: not listed here');
    } else {
      byId('cache-count').textContent = '(' + cache.total + (cache.total > cache.entries.length ? ', newest ' + cache.entries.length + ' shown' : '') + ')';
      fill('cache', cache.entries.map(cacheRow), 4, 'empty');
    }
    showRedis(status.redis);
  }

  function problem(text) {
    var target = byId('problem');
    target.textContent = text;
    target.hidden = text === '';
  }

  function poll() {
    var again = true;
    fetch(dataUrl, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (response) {
        // An expired or revoked link stays so: stop asking, say what to do.
        if (response.status === 401) again = false;
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body && body.error ? body.error.message : 'the proxy answered ' + response.status);
          return body;
        });
      })
      .then(function (status) {
        show(status);
        problem('');
      })
      .catch(function (error) {
        problem('No update: ' + error.message + (again ? '' : ' (updates stopped; reload with a valid link)'));
      })
      .finally(function () {
        if (again) window.setTimeout(poll, POLL_MS);
      });
  }

  poll();
})();
