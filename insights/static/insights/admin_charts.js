// The insights charts page of the admin (insights/templates/admin/insights/charts.html):
// draws the figures the page embeds as JSON with the bundled Chart.js (no CDN).
(function () {
    "use strict";
    var data = JSON.parse(document.getElementById("insights-charts").textContent);
    var weekdays = JSON.parse(document.getElementById("insights-weekdays").textContent);
    var colors = ["rgb(147, 51, 234)", "rgb(37, 99, 235)", "rgb(22, 163, 74)", "rgb(234, 179, 8)", "rgb(220, 38, 38)"];
    var small = {maintainAspectRatio: false, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}};
    function days(rows) { return rows.map(function (r) { return r.day.slice(5); }); }
    function line(label, rows, key, color) {
        return {label: label, data: rows.map(function (r) { return r[key]; }), borderColor: color,
                backgroundColor: color, tension: 0.3, spanGaps: true};
    }
    new Chart(document.getElementById("chart-active"), {
        type: "line",
        data: {labels: days(data.active), datasets: [
            line("DAU", data.active, "dau", colors[0]),
            line("WAU", data.active, "wau", colors[1]),
            line("MAU", data.active, "mau", colors[2]),
        ]},
        options: small,
    });
    var names = ["new", "core", "casual", "dormant", "inactive"];
    new Chart(document.getElementById("chart-segments"), {
        type: "line",
        data: {labels: days(data.segments), datasets: names.map(function (name, i) {
            var set = line(name, data.segments, name, colors[i]);
            set.fill = true;
            return set;
        })},
        options: {maintainAspectRatio: false, scales: {y: {stacked: true, beginAtZero: true}}},
    });
    var points = [], top = 1;
    data.heatmap.forEach(function (row) { row.forEach(function (n) { top = Math.max(top, n); }); });
    data.heatmap.forEach(function (row, day) {
        row.forEach(function (n, hour) {
            if (n) { points.push({x: hour, y: day, r: 2 + 12 * n / top, n: n}); }
        });
    });
    new Chart(document.getElementById("chart-heatmap"), {
        type: "bubble",
        data: {datasets: [{data: points, backgroundColor: "rgba(147, 51, 234, 0.5)"}]},
        options: {
            maintainAspectRatio: false,
            plugins: {legend: {display: false}, tooltip: {callbacks: {label: function (c) {
                return weekdays[c.raw.y] + " " + c.raw.x + ":00 · " + c.raw.n;
            }}}},
            scales: {
                x: {min: -0.5, max: 23.5, ticks: {stepSize: 1}},
                y: {min: -0.5, max: 6.5, reverse: true, ticks: {stepSize: 1, callback: function (v) { return weekdays[v]; }}},
            },
        },
    });
    new Chart(document.getElementById("chart-participation"), {
        type: "bar",
        data: {labels: data.participation.map(function (r) { return r.label; }),
               datasets: [{data: data.participation.map(function (r) { return r.rate === null ? 0 : Math.round(r.rate * 100); }),
                           backgroundColor: colors[1]}]},
        options: {maintainAspectRatio: false, indexAxis: "y", plugins: {legend: {display: false}},
                  scales: {x: {beginAtZero: true, max: 100}}},
    });
})();
