// A practice's lineage across cities drawn with cytoscape.js from
// <div id="lineage-graph" data-graph='[elements]'>: the source practice on top, each copy below
// the practice it was adopted from; a click (or Enter on the focused graph) opens a practice.
// The same lineage is on the page as a nested list for screen readers and print.
"use strict";

(function () {
  function draw() {
    const box = document.getElementById("lineage-graph");
    if (!box || typeof cytoscape === "undefined") return;
    let elements;
    try {
      elements = JSON.parse(box.dataset.graph);
    } catch (error) {
      return;
    }
    const roots = elements
      .filter(function (e) { return !e.data.source; })
      .filter(function (node) {
        return !elements.some(function (e) { return e.data.target === node.data.id; });
      })
      .map(function (node) { return "#" + CSS.escape(node.data.id); });
    const graph = cytoscape({
      container: box,
      elements: elements,
      autoungrabify: true,
      wheelSensitivity: 0.3,
      layout: { name: "breadthfirst", directed: true, roots: roots, spacingFactor: 1.2, padding: 16 },
      style: [
        {
          selector: "node",
          style: {
            "label": "data(label)",
            "text-wrap": "wrap",
            "text-max-width": "160px",
            "font-size": "12px",
            "color": "#1a1a1a",
            "text-valign": "bottom",
            "text-margin-y": 6,
            "background-color": "#1d4f91",
            "width": 22,
            "height": 22
          }
        },
        { selector: "node[?current]", style: { "background-color": "#c8102e", "border-width": 3, "border-color": "#1a1a1a" } },
        {
          selector: "edge",
          style: {
            "width": 2,
            "line-color": "#4d4d4d",
            "target-arrow-color": "#4d4d4d",
            "target-arrow-shape": "triangle",
            "curve-style": "bezier"
          }
        }
      ]
    });
    graph.on("tap", "node", function (event) {
      const href = event.target.data("href");
      if (href) window.location.assign(href);
    });
    box.dataset.drawn = String(graph.nodes().length);
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
