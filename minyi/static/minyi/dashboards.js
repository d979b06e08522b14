/* Dashboards: draw each chart from the JSON the page carries (no inline script, for
   the CSP). Every chart has a table of the same numbers below it, each a link to the
   list behind it; a click on a bar, point or slice opens the same list. */
(function () {
  "use strict";

  function crowded(labels) {
    var longest = Math.max.apply(null, labels.map(function (l) { return l.length; }).concat([0]));
    return labels.length > 6 || labels.length * longest > 24;
  }

  function option(chart) {
    var base = {
      // Not shown (the page has the heading); the aria description names the chart by it.
      title: { text: chart.title, show: false },
      // Screen readers get a description; patterns tell series apart without colour.
      aria: { enabled: true, decal: { show: true } },
      tooltip: { trigger: chart.kind === "pie" ? "item" : "axis" },
      textStyle: { fontSize: 14 },
      animation: false,
    };
    if (chart.kind === "pie") {
      var s = chart.series[0];
      base.legend = { bottom: 0, type: "scroll" };
      base.series = [{
        name: s.name,
        type: "pie",
        radius: ["35%", "65%"],
        data: chart.categories.map(function (label, i) {
          return { name: label, value: s.values[i] };
        }),
        label: { formatter: "{b}：{c}" },
      }];
      return base;
    }
    base.grid = { left: 16, right: 16, top: 32, bottom: 8, containLabel: true };
    base.xAxis = {
      type: "category",
      data: chart.categories,
      axisLabel: { interval: 0, rotate: crowded(chart.categories) ? 30 : 0 },
    };
    base.yAxis = { type: "value", minInterval: 1 };
    if (chart.series.length > 1) base.legend = { top: 0 };
    base.series = chart.series.map(function (s) {
      return {
        name: s.name,
        type: chart.kind === "line" ? "line" : "bar",
        stack: chart.kind === "stack" ? "all" : undefined,
        data: s.values,
        label: { show: chart.kind !== "stack", position: "top" },
      };
    });
    return base;
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") return;
    var charts = JSON.parse(source.textContent);
    var drawn = [];
    charts.forEach(function (chart) {
      var el = document.querySelector('.chart-canvas[data-chart="' + chart.key + '"]');
      if (!el) return;
      var instance = echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
      instance.setOption(option(chart));
      instance.on("click", function (params) {
        var s = chart.series[params.seriesIndex] || chart.series[0];
        var url = s.urls[params.dataIndex];
        var value = s.values[params.dataIndex];
        if (url && value) window.location.href = url;
      });
      drawn.push(instance);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (instance) { instance.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
