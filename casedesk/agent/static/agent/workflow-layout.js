// The workflow diagram laid out in the browser by dagre (dagre.min.js, MIT), for servers
// without Graphviz: the page holds the boxes and arrows; this places them.
(function () {
  "use strict";
  var figure = document.querySelector('.diagram[data-layout="browser"]');
  if (!figure || typeof dagre === "undefined") return;
  var svg = figure.querySelector("svg");
  var nodes = svg.querySelectorAll("g.node");
  var edges = svg.querySelectorAll("path.edge");
  var PAD = 20;
  var g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: 25, ranksep: 50, edgesep: 12, marginx: PAD, marginy: PAD });
  g.setDefaultEdgeLabel(function () { return {}; });
  nodes.forEach(function (node) {
    var rect = node.querySelector("rect");
    g.setNode(node.dataset.key, {
      width: Number(rect.getAttribute("width")),
      height: Number(rect.getAttribute("height"))
    });
  });
  // an arrow back to an earlier column (category) is laid out as if it went forward, so
  // the columns keep their order (the server's Graphviz layout does the same)
  var column = {};
  nodes.forEach(function (node) { column[node.dataset.key] = Number(node.dataset.column); });
  function backwards(edge) { return column[edge.dataset.target] < column[edge.dataset.source]; }
  edges.forEach(function (edge) {
    if (backwards(edge)) g.setEdge(edge.dataset.target, edge.dataset.source, { weight: 0 });
    else g.setEdge(edge.dataset.source, edge.dataset.target);
  });
  dagre.layout(g);
  nodes.forEach(function (node) {
    var n = g.node(node.dataset.key);
    node.setAttribute("transform", "translate(" + (n.x - n.width / 2) + "," + (n.y - n.height / 2) + ")");
  });
  edges.forEach(function (edge) {
    var points = backwards(edge)
      ? g.edge(edge.dataset.target, edge.dataset.source).points.slice().reverse()
      : g.edge(edge.dataset.source, edge.dataset.target).points;
    var d = "M" + points[0].x + "," + points[0].y;
    for (var i = 1; i < points.length; i++) d += " L" + points[i].x + "," + points[i].y;
    edge.setAttribute("d", d);
  });
  var size = g.graph();
  svg.setAttribute("viewBox", "0 0 " + Math.ceil(size.width) + " " + Math.ceil(size.height));
  svg.setAttribute("width", Math.ceil(size.width));
  svg.setAttribute("height", Math.ceil(size.height));
  figure.dataset.laidOut = "true";
})();
