// The step-through's script (scalargrad.viz.page, scalargrad.viz.widget): no library, no network.
//
// It defines window.scalargradStepThrough1(root, options) once per page, however many
// step-throughs the page holds; page.py inlines this file unchanged and calls it for each one:
// root is the step-through's <div class="sgw">, whose data (every mode's steps, the node names,
// the table titles) is JSON in its <script type="application/json" class="sgw-data"> child;
// options.globalKeys makes the keys work anywhere on the page rather than only inside root.
// Nothing here is filled in by Python. Text from the graph reaches the page only as
// textContent, never as markup.
(function () {
  "use strict";
  if (window.scalargradStepThrough1) return;
  function make(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function setup(root, options) {
    var data = JSON.parse(root.querySelector("script.sgw-data").textContent);
    var modes = {};
    data.modes.forEach(function (m) { modes[m.mode] = m; });
    var tables = Array.prototype.slice.call(root.querySelectorAll(".sgw-tables table.scalargrad-trace"));
    var rows = tables.map(function (t) {
      return Array.prototype.filter.call(t.querySelectorAll("tr"), function (r) {
        return r.querySelector("td") && !r.classList.contains("summary");
      });
    });
    var views = {};
    Array.prototype.forEach.call(root.querySelectorAll(".sgw-svg"), function (box) {
      var view = {box: box, nodes: {}, edges: [], applied: -1};
      Array.prototype.forEach.call(box.querySelectorAll("g[data-n]"), function (g) {
        var texts = [];
        Array.prototype.forEach.call(g.querySelectorAll("text[data-f]"), function (t) {
          texts[+t.getAttribute("data-f")] = t;
        });
        view.nodes[g.getAttribute("data-n")] = {g: g, texts: texts};
      });
      Array.prototype.forEach.call(box.querySelectorAll("g[data-e]"), function (g) {
        var ends = g.getAttribute("data-e").split(" ");
        view.edges.push({g: g, a: ends[0], b: ends[1], text: g.querySelector("text")});
      });
      views[box.getAttribute("data-mode")] = view;
    });
    var q = function (s) { return root.querySelector(s); };
    var slider = q(".sgw-slider"), count = q(".sgw-count"), panel = q(".sgw-panel"), play = q(".sgw-play");
    var diagram = q(".sgw-diagram");
    var state = {mode: data.start.mode, at: {}, timer: null, current: null};
    data.modes.forEach(function (m) { state.at[m.mode] = 0; });
    state.at[data.start.mode] = data.start.step;

    function applyFields(view, changes) {
      for (var id in changes) {
        var n = view.nodes[id];
        if (!n) continue;
        changes[id].forEach(function (text, i) {
          var e = n.texts[i + 1];
          if (e) e.textContent = text;
        });
      }
    }
    function drawDiagram(m, k) {
      var view = views[m.mode];
      if (!view || !Object.keys(view.nodes).length) return;
      var st = m.steps[k], done = {}, used = {}, fresh = {}, hidden = {}, j;
      for (j = 0; j <= k; j++) done[m.steps[j].node] = true;
      st.edges.forEach(function (e) { used[e[0] + " " + e[1]] = true; });
      (st["new"] || []).forEach(function (id) { fresh[id] = true; });
      var built = m.built || {};
      for (var id in view.nodes) {
        var cls;
        if (Object.prototype.hasOwnProperty.call(built, id)) {
          if (built[id] > k) { cls = "sg-hidden"; hidden[id] = true; }
          else cls = fresh[id] ? "sg-adj sg-new" : "sg-adj";
        } else {
          cls = id === st.node ? "sg-visited" : done[id] ? "sg-done" : "sg-waiting";
        }
        view.nodes[id].g.setAttribute("class", "node " + cls);
      }
      var labels = {};
      (st.labels || []).forEach(function (l) {
        var key = l[0] + " " + l[1];
        (labels[key] = labels[key] || []).push(l[2]);
      });
      view.edges.forEach(function (e) {
        var cls = "edge", key = e.a + " " + e.b;
        if (hidden[e.a] || hidden[e.b]) cls += " sg-hidden";
        else if (used[key]) cls += " sg-used";
        e.g.setAttribute("class", cls);
        if (e.text) e.text.textContent = labels[key] && labels[key].length ? labels[key].shift() : "";
      });
      if (view.applied < 0 || view.applied > k) {
        applyFields(view, m.steps[0].fields);
        view.applied = 0;
      }
      for (j = view.applied + 1; j <= k; j++) applyFields(view, m.steps[j].fields);
      view.applied = k;
      var target = view.nodes[st.node];
      if (target && diagram.clientWidth) {
        var box = diagram.getBoundingClientRect(), r = target.g.getBoundingClientRect();
        if (r.left < box.left || r.right > box.right) {
          diagram.scrollLeft += r.left - box.left - box.width / 2 + r.width / 2;
        }
        if (r.top < box.top || r.bottom > box.bottom) {
          diagram.scrollTop += r.top - box.top - box.height / 2 + r.height / 2;
        }
      }
    }
    function rowPanel(m, st) {
      var div = make("div", "sgw-row");
      if (state.current) state.current.classList.remove("sgw-current");
      state.current = null;
      if (!st.row || !rows[st.row[0]] || !rows[st.row[0]][st.row[1]]) return div;
      var tr = rows[st.row[0]][st.row[1]];
      tr.classList.add("sgw-current");
      state.current = tr;

      var table = make("table", "scalargrad-trace");
      table.appendChild(make("caption", "", data.tables[st.row[0]]));
      var head = make("tr");
      ["node", "definition", "value"].forEach(function (h) { head.appendChild(make("th", "", h)); });
      table.appendChild(head);
      var copy = tr.cloneNode(true);
      copy.classList.remove("sgw-current");
      table.appendChild(copy);
      div.appendChild(table);
      return div;
    }
    function entry(e) { return e[0] === "1" ? "1" : e[0] + " = " + e[1]; }
    function reverseState(m, k) {
      var lists = {}, sums = {}, done = {}, id, j;
      for (id in m.initial) lists[id] = m.initial[id].map(function (e) { return [e[0], e[1], false]; });
      for (j = 0; j <= k; j++) {
        var st = m.steps[j];
        sums[st.node] = st.value;
        done[st.node] = true;
        st.appended.forEach(function (a) {
          (lists[a[0]] = lists[a[0]] || []).push([a[1], a[2], j === k]);
        });
      }
      var table = make("table", "sgw-ntg");
      for (var i = data.order.length - 1; i >= 0; i--) {
        id = data.order[i];
        if (!lists[id]) continue;
        var tr = make("tr", id === m.steps[k].node ? "sgw-visited" : done[id] ? "sgw-done" : "");
        tr.setAttribute("data-n", id);
        tr.appendChild(make("td", "", "node_to_grad[" + data.names[id] + "]"));
        var td = make("td");
        td.appendChild(document.createTextNode("["));
        lists[id].forEach(function (e, n) {
          if (n) td.appendChild(document.createTextNode(", "));
          if (e[2]) td.appendChild(make("span", "sgw-new", entry(e)));
          else td.appendChild(document.createTextNode(entry(e)));
        });
        td.appendChild(document.createTextNode("]"));
        tr.appendChild(td);
        tr.appendChild(make("td", "sgw-sum", sums[id] !== undefined ? data.bars[id] + " = " + sums[id] : ""));
        table.appendChild(tr);
      }
      return table;
    }
    function show(mode, k) {
      var m = modes[mode];
      k = Math.max(0, Math.min(m.steps.length - 1, k));
      if (mode !== state.mode) {
        Array.prototype.forEach.call(root.querySelectorAll(".sgw-mode"), function (b) {
          var on = b.getAttribute("data-mode") === mode;
          b.classList.toggle("sgw-on", on);
          b.setAttribute("aria-pressed", on ? "true" : "false");
        });
        Array.prototype.forEach.call(root.querySelectorAll(".sgw-svg"), function (box) {
          box.hidden = box.getAttribute("data-mode") !== mode;
        });
        state.mode = mode;
        root.setAttribute("data-mode", mode);
      }
      state.at[mode] = k;
      var st = m.steps[k];
      slider.max = String(m.steps.length);
      slider.value = String(k + 1);
      count.textContent = "step " + (k + 1) + " of " + m.steps.length;
      root.setAttribute("data-step", String(k + 1));
      root.setAttribute("data-node", st.node);
      drawDiagram(m, k);
      panel.textContent = "";
      panel.appendChild(make("div", "sgw-line", st.line));
      panel.appendChild(rowPanel(m, st));
      var box = make("div", "sgw-state");
      if (mode === "reverse") {
        box.appendChild(make("div", "sgw-state-title", "node_to_grad after this step"));
        var list = make("div", "sgw-ntg-box");
        list.appendChild(reverseState(m, k));
        box.appendChild(list);
      } else if (mode === "extend") {
        box.appendChild(make("div", "sgw-state-title", "adjoint nodes added by this step"));
        var ul = make("ul", "sgw-added");
        st.added.forEach(function (a) { ul.appendChild(make("li", "", a[1] + " = " + a[2])); });
        if (!st.added.length) ul.appendChild(make("li", "sgw-none", "none"));
        box.appendChild(ul);
      }
      panel.appendChild(box);
      var scroller = panel.querySelector(".sgw-ntg-box");
      var visited = scroller ? scroller.querySelector("tr.sgw-visited") : null;
      if (visited && scroller.clientHeight) {
        var pb = scroller.getBoundingClientRect(), vr = visited.getBoundingClientRect();
        if (vr.top < pb.top || vr.bottom > pb.bottom) scroller.scrollTop += vr.top - pb.top - pb.height / 2;
      }
      keepRowInView();
    }
    function keepRowInView() {
      // the full tables' box reaches down to the window's bottom edge, and the current row is
      // scrolled into view inside it: the box scrolls, never the page
      var tr = state.current, holder = tr ? tr.closest(".sgw-tables") : null;
      if (!holder || !holder.clientHeight) return;
      var room = window.innerHeight - holder.getBoundingClientRect().top - 8;
      holder.style.maxHeight = Math.max(160, room) + "px";
      var hb = holder.getBoundingClientRect(), tb = tr.getBoundingClientRect();
      if (tb.top < hb.top || tb.bottom > hb.bottom) {
        holder.scrollTop += tb.top - hb.top - (hb.height - tb.height) / 2;
      }
      if (tb.left < hb.left || tb.right > hb.right) holder.scrollLeft += tb.left - hb.left;
    }
    function stop() {
      if (state.timer !== null) { clearInterval(state.timer); state.timer = null; }
      play.textContent = "▶ play";
    }
    function step(delta) { stop(); show(state.mode, state.at[state.mode] + delta); }
    function go(k) { stop(); show(state.mode, k); }
    Array.prototype.forEach.call(root.querySelectorAll(".sgw-mode"), function (b) {
      b.addEventListener("click", function () {
        stop();
        var mode = b.getAttribute("data-mode");
        show(mode, state.at[mode]);
      });
    });
    q(".sgw-first").addEventListener("click", function () { go(0); });
    q(".sgw-last").addEventListener("click", function () { go(modes[state.mode].steps.length - 1); });
    q(".sgw-prev").addEventListener("click", function () { step(-1); });
    q(".sgw-next").addEventListener("click", function () { step(1); });
    slider.addEventListener("input", function () { go(+slider.value - 1); });
    play.addEventListener("click", function () {
      if (state.timer !== null) { stop(); return; }
      var m = modes[state.mode];
      if (state.at[state.mode] >= m.steps.length - 1) show(state.mode, 0);
      play.textContent = "❚❚ pause";
      state.timer = setInterval(function () {
        var k = state.at[state.mode] + 1;
        if (k >= modes[state.mode].steps.length) { stop(); return; }
        show(state.mode, k);
      }, 1000);
    });
    // diagrams shrink to the width available, but never so far that their smallest text is
    // under 12.5 px high (then they scroll); a double click toggles their natural size
    Array.prototype.forEach.call(diagram.querySelectorAll("svg"), function (svg) {
      var w = parseFloat(svg.getAttribute("width")), unit = /pt$/.test(svg.getAttribute("width")) ? 4 / 3 : 1;
      var smallest = Infinity;
      Array.prototype.forEach.call(svg.querySelectorAll("text[font-size]"), function (t) {
        var f = parseFloat(t.getAttribute("font-size"));
        if (f > 0 && f < smallest) smallest = f;
      });
      var scale = smallest < Infinity ? Math.min(1, 12.5 / (smallest * unit)) : 0.6;
      if (w > 0) svg.style.minWidth = (scale * w * unit) + "px";
    });
    diagram.addEventListener("dblclick", function () { diagram.classList.toggle("sgw-natural"); });
    var keys = {ArrowLeft: function () { step(-1); }, ArrowRight: function () { step(1); },
                Home: function () { go(0); }, End: function () { go(modes[state.mode].steps.length - 1); }};
    (options.globalKeys ? document : root).addEventListener("keydown", function (ev) {
      if (ev.altKey || ev.ctrlKey || ev.metaKey || !keys[ev.key]) return;
      var t = ev.target;
      if (t && t.tagName && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) return;
      ev.preventDefault();
      keys[ev.key]();
    });
    show(state.mode, state.at[state.mode]);
    root.setAttribute("data-ready", "1");
  }
  window.scalargradStepThrough1 = setup;
})();
