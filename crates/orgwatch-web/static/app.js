/* orgwatch: the one script of the app, served from the binary (the CSP allows no inline
 * script). On the Activity page it draws the charts from the page's JSON data block
 * (<script type="application/json" id="activity-data">, which the browser never runs) with
 * the vendored Apache ECharts, sends a click on a bar to that bar's drill-down URL, and keeps
 * the page live from the server-sent events named in the block's data-stream: each message
 * is the whole document again (figures, charts, tables), computed for this user. On the
 * Overview it draws the live section (#overview-live): the calls per minute as a sparkline
 * and the latest alarms, from the same stream. */
(function () {
  'use strict';

  var data = document.getElementById('activity-data');
  var overview = document.getElementById('overview-live');
  if (!data && !overview) {
    return;
  }
  var charts = {};
  var updates = 0;

  function chartOf(el) {
    var name = el.getAttribute('data-chart');
    if (!charts[name]) {
      // Canvas: no inline SVG styles, nothing the CSP refuses.
      charts[name] = window.echarts.init(el, null, { renderer: 'canvas' });
      charts[name].on('click', function (p) {
        if (p.data && p.data.drill) {
          window.location.assign(p.data.drill);
        }
      });
    }
    return charts[name];
  }

  // Tooltips as canvas text: HTML tooltips carry style attributes the CSP refuses.
  var tooltip = { trigger: 'axis', renderMode: 'richText', confine: true };

  function drawCalls(el, doc) {
    var points = doc.calls || [];
    chartOf(el).setOption({
      animation: false,
      tooltip: tooltip,
      legend: { data: ['Calls', 'Errors', 'Anomaly score'] },
      grid: { left: 50, right: 50, top: 30, bottom: 30 },
      xAxis: { type: 'category', data: points.map(function (p) { return p.time.slice(11, 16); }) },
      yAxis: [{ type: 'value', name: 'calls' }, { type: 'value', name: 'score' }],
      series: [
        {
          name: 'Calls', type: 'bar',
          data: points.map(function (p) {
            return { value: p.calls, drill: p.drill, itemStyle: { color: p.alarm ? '#a4161a' : '#0b5cad' } };
          })
        },
        {
          name: 'Errors', type: 'bar', barGap: '-100%',
          data: points.map(function (p) { return { value: p.errors, drill: p.drill, itemStyle: { color: '#e0a100' } }; })
        },
        {
          name: 'Anomaly score', type: 'line', yAxisIndex: 1, connectNulls: false, symbolSize: 4,
          data: points.map(function (p) { return { value: p.score, drill: p.drill }; })
        }
      ]
    }, true);
  }

  function drawTop(el, items) {
    items = (items || []).slice().reverse();
    chartOf(el).setOption({
      animation: false,
      tooltip: tooltip,
      grid: { left: 10, right: 30, top: 10, bottom: 20, containLabel: true },
      xAxis: { type: 'value' },
      yAxis: {
        type: 'category',
        data: items.map(function (i) { return i.item; }),
        axisLabel: { width: 220, overflow: 'truncate' }
      },
      series: [{
        type: 'bar', name: 'Calls', cursor: 'pointer',
        data: items.map(function (i) { return { value: i.calls, drill: i.drill }; })
      }]
    }, true);
  }

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) {
      el.textContent = value;
    }
  }

  function cell(value) {
    if (value === null || value === undefined) {
      return '–';
    }
    if (typeof value === 'boolean') {
      return value ? 'yes' : 'no';
    }
    if (typeof value === 'number' && !Number.isInteger(value)) {
      return value.toFixed(1);
    }
    return String(value);
  }

  // Rows as the server renders them, from the table's JSON (text only, never HTML).
  function drawTable(id, table) {
    var el = document.getElementById(id);
    if (!el) {
      return;
    }
    var keys = Array.prototype.map.call(el.querySelectorAll('thead th'), function (th) {
      return { key: th.getAttribute('data-key'), num: th.classList.contains('num') };
    });
    var body = el.querySelector('tbody');
    while (body.firstChild) {
      body.removeChild(body.firstChild);
    }
    table.rows.forEach(function (row) {
      var tr = document.createElement('tr');
      keys.forEach(function (k) {
        var td = document.createElement('td');
        if (k.num) {
          td.className = 'num';
        }
        td.textContent = cell(row[k.key]);
        tr.appendChild(td);
      });
      if (row.alarm === true || id === 'alarms') {
        tr.className = 'bad';
      }
      body.appendChild(tr);
    });
    var empty = document.getElementById(id + '-empty');
    if (table.rows.length === 0) {
      if (!empty) {
        empty = document.createElement('p');
        empty.className = 'empty';
        empty.id = id + '-empty';
        el.parentNode.insertBefore(empty, el.nextSibling);
      }
      empty.textContent = table.empty || '';
    } else if (empty) {
      empty.parentNode.removeChild(empty);
    }
  }

  function render(doc) {
    document.querySelectorAll('.chart[data-chart]').forEach(function (el) {
      if (!window.echarts) {
        return;
      }
      var name = el.getAttribute('data-chart');
      if (name === 'calls') {
        drawCalls(el, doc);
      } else {
        drawTop(el, (doc.charts || {})[name]);
      }
    });
    var totals = doc.totals || {};
    Object.keys(totals).forEach(function (k) { text('total-' + k, String(totals[k])); });
    if (doc.range) {
      text('range', doc.range.since + ' to ' + doc.range.until);
    }
    text('newest', doc.newest_event || '');
    var empty = document.getElementById('empty');
    if (empty) {
      empty.textContent = doc.empty || '';
      empty.hidden = !doc.empty;
    }
    Object.keys(doc.tables || {}).forEach(function (id) { drawTable(id, doc.tables[id]); });
  }

  // The Overview's sparkline: calls per minute, alarms in red, a click drills down.
  function drawSpark(el, doc) {
    var points = doc.calls || [];
    chartOf(el).setOption({
      animation: false,
      tooltip: tooltip,
      grid: { left: 40, right: 10, top: 10, bottom: 20 },
      xAxis: { type: 'category', data: points.map(function (p) { return p.time.slice(11, 16); }) },
      yAxis: { type: 'value', splitNumber: 2 },
      series: [{
        name: 'Calls', type: 'bar', cursor: 'pointer',
        data: points.map(function (p) {
          return { value: p.calls, drill: p.drill, itemStyle: { color: p.alarm ? '#a4161a' : '#0b5cad' } };
        })
      }]
    }, true);
  }

  // The newest alarms as a list: when, where, who called what, linked to their events.
  function drawAlarms(list, doc, most) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    (doc.alarms || []).slice(0, most).forEach(function (a) {
      var li = document.createElement('li');
      var link = document.createElement('a');
      link.href = a.drill;
      link.textContent = a.time.slice(0, 16).replace('T', ' ') + ' UTC';
      li.appendChild(link);
      var what = ' · ' + a.account + ' · ' + (a.kind || 'alarm') + ': ' +
        (a.principal || 'a principal') + (a.api ? ' calling ' + a.api : '');
      li.appendChild(document.createTextNode(what));
      list.appendChild(li);
    });
    text('latest-alarms-empty', (doc.alarms || []).length ? '' :
      (doc.empty || 'No alarm in the range.'));
  }

  function renderOverview(doc) {
    var spark = document.getElementById('chart-spark');
    if (spark && window.echarts) {
      drawSpark(spark, doc);
    }
    text('live-calls', String((doc.totals || {}).events || 0));
    text('live-alarms', String((doc.totals || {}).alarms || 0));
    var list = document.getElementById('latest-alarms');
    if (list) {
      drawAlarms(list, doc, Number(list.getAttribute('data-most')) || 5);
    }
  }

  if (data) {
    render(JSON.parse(data.textContent));
  }
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });

  var url = (data || overview).getAttribute('data-stream');
  if (url && window.EventSource) {
    var source = new EventSource(url);
    source.addEventListener('summary', function (e) {
      updates += 1;
      (data ? render : renderOverview)(JSON.parse(e.data));
      var status = document.getElementById('live-status');
      if (status) {
        status.textContent = 'Live: updated ' + new Date().toISOString().slice(11, 19) + ' UTC.';
        status.setAttribute('data-updates', String(updates));
      }
    });
    source.addEventListener('error', function () {
      text('live-status', 'Live updates interrupted; reconnecting…');
    });
  }
}());
