// The console's own script: charts from <canvas data-chart='{json}'>, and live fragments from
// server-sent events (<div data-live="/url/events">: each "update" event's data replaces it).
"use strict";

(function () {
  const palette = ["#1d4f91", "#c8102e", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037"];

  function drawCharts(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      let config;
      try {
        config = JSON.parse(canvas.dataset.chart);
      } catch (error) {
        return;
      }
      (config.data.datasets || []).forEach(function (dataset, index) {
        const colour = palette[index % palette.length];
        if (!dataset.backgroundColor) dataset.backgroundColor = config.type === "line" ? colour : colour + "cc";
        if (!dataset.borderColor) dataset.borderColor = colour;
      });
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
      canvas.dataset.drawn = "1";
      new Chart(canvas, config);
    });
  }

  function followLive(root) {
    if (typeof EventSource === "undefined") return;
    root.querySelectorAll("[data-live]").forEach(function (element) {
      if (element.dataset.following) return;
      element.dataset.following = "1";
      const source = new EventSource(element.dataset.live);
      const status = document.getElementById(element.dataset.liveStatus || "");
      source.addEventListener("update", function (event) {
        element.innerHTML = event.data;
        element.dataset.updates = String(Number(element.dataset.updates || "0") + 1);
        if (status) status.textContent = "Обновлено " + new Date().toLocaleTimeString("ru-RU");
        drawCharts(element);
      });
      source.addEventListener("closed", function () {
        source.close();
        if (status) status.textContent = "Месяц закрыт: обновления не нужны";
      });
      source.onerror = function () {
        if (status) status.textContent = "Связь потеряна, переподключение…";
      };
    });
  }

  function init(root) {
    drawCharts(root);
    followLive(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // htmx requests send the session's CSRF token as a header (csrf.py accepts either)
  document.addEventListener("htmx:configRequest", function (event) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
  });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
