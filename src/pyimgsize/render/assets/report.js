/* pyimgsize HTML report: a squarified, zoomable treemap and sortable tables.
   Hand-written, no dependencies, no network. Every string from the image reaches the page
   through textContent or a property, never as markup. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("pyimgsize-data").textContent);
  var W = DATA.words;
  var DARK = { native: 1, cache: 1, dead: 1, shrank: 1, gone: 1 };
  var MAX_DEPTH = 4;
  var MAX_BOXES = 2500;

  function fmtBytes(n, signed) {
    var sign = n < 0 ? "-" : signed && n > 0 ? "+" : "";
    var a = Math.abs(n);
    var units = [["TB", 1e12], ["GB", 1e9], ["MB", 1e6], ["kB", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (a >= units[i][1]) return sign + (a / units[i][1]).toFixed(1) + " " + units[i][0];
    }
    return sign + a + " B";
  }

  // --- the node model --------------------------------------------------------------------------
  function node(name, kind) {
    return { name: name, kind: kind, size: 0, kids: null, map: null, parent: null,
             colour: null, info: null, text: name.toLowerCase(), cats: null, dname: null };
  }
  function child(parent, name, kind) {
    if (!parent.map) { parent.map = new Map(); parent.kids = []; }
    var key = kind + "\u0000" + name;
    var n = parent.map.get(key);
    if (!n) {
      n = node(name, kind);
      n.parent = parent;
      parent.map.set(key, n);
      parent.kids.push(n);
    }
    return n;
  }
  function leaf(parent, name, size, colour, text, info) {
    var n = node(name, "file");
    n.size = size; n.colour = colour; n.text = text.toLowerCase(); n.info = info; n.parent = parent;
    if (!parent.kids) { parent.kids = []; parent.map = new Map(); }
    parent.kids.push(n);
    return n;
  }
  // sizes, colour mixes and merged single-child directory chains, bottom-up
  function finish(n, ncol) {
    if (!n.kids) { n.cats = {}; n.cats[n.colour] = n.size; return; }
    n.size = 0; n.cats = {};
    for (var i = 0; i < n.kids.length; i++) {
      var k = n.kids[i];
      finish(k, ncol);
      while (k.kind === "dir" && k.kids && k.kids.length === 1 && k.kids[0].kind === "dir") {
        var only = k.kids[0];
        only.name = k.name + "/" + only.name;
        only.parent = n;
        n.kids[i] = only;
        k = only;
      }
      n.size += k.size;
      for (var c in k.cats) n.cats[c] = (n.cats[c] || 0) + k.cats[c];
    }
    var best = null;
    for (var c2 in n.cats) if (best === null || n.cats[c2] > n.cats[best]) best = c2;
    n.colour = best;
    n.kids.sort(function (a, b) { return b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0); });
    n.map = null;
  }

  // --- inspect: the views over the file list ------------------------------------------------
  function segments(path) { return path ? path.split("/") : []; }
  function under(path, base) {
    // path segments relative to base (both without a leading slash), or null when outside
    if (base === "") return segments(path);
    if (path === base) return [];
    if (path.slice(0, base.length + 1) === base + "/") return segments(path.slice(base.length + 1));
    return null;
  }
  function inspectView(view) {
    var T = DATA.tree;
    var root = node(DATA.title, "image");
    var cats = T.categories;
    for (var i = 0; i < T.files.length; i++) {
      var r = T.files[i];
      var dir = T.dirs[r[0]], name = r[1], size = r[2], cat = cats[r[3]], layer = r[4];
      var owner = r[5] >= 0 ? T.owners[r[5]] : null, dead = r[6] === 1, count = r[7];
      if (view !== "layer" && view !== "category" && dead) continue;
      var label = name === "" ? W.small_files.replace("{n}", count.toLocaleString("en")) : name;
      var full = "/" + (dir ? dir + "/" : "") + label;
      var ownerText = owner === null ? W.no_owner
        : owner[0] === "dist" ? owner[2] + (owner[3] ? " " + owner[3] : "")
        : owner[0] === "site" ? W.unowned + " (" + owner[1] + ")"
        : owner[1] + " (" + owner[2] + ")";
      var info = [full, fmtBytes(size) + (count > 1 ? " \u00b7 " + count.toLocaleString("en") + " " + W.files : ""),
                  W.category + ": " + W.cats[cat], W.layer + ": " + DATA.layers[layer], W.owner + ": " + ownerText];
      var top, rel, base;
      if (view === "layer") {
        top = child(root, DATA.layers[layer], "layer");
        top.layer = layer;
        if (dead) top = child(top, W.dead_bytes, "dead");
        base = "";
      } else if (view === "category") {
        top = child(root, W.cats[cat], "category");
        base = "";
        if (!dead && owner !== null) {
          if (owner[0] === "dist") { top = child(top, ownerText, "dist"); top.dname = owner[2]; base = owner[1].slice(1); }
          else if (owner[0] === "site") { top = child(top, ownerText, "site"); base = owner[1].slice(1); }
          else { top = child(top, owner[1], "cache"); base = owner[1].slice(1); }
        }
      } else if (owner === null) {
        top = child(root, W.outside, "group"); base = "";
      } else if (owner[0] === "dist") {
        top = child(child(root, owner[1], "site"), ownerText, "dist");
        top.dname = owner[2];
        base = owner[1].slice(1);
      } else if (owner[0] === "site") {
        top = child(child(root, owner[1], "site"), W.unowned, "group");
        base = owner[1].slice(1);
      } else {
        top = child(child(root, W.caches, "group"), owner[1], "cache");
        base = owner[1].slice(1);
      }
      rel = under(dir, base);
      if (rel === null) rel = ["/" + dir];
      var n = top;
      for (var s = 0; s < rel.length; s++) n = child(n, rel[s], "dir");
      var lf = leaf(n, label, size, dead ? "dead" : cat, full, info);
      lf.layer = layer;
    }
    finish(root);
    return root;
  }

  // --- diff: prebuilt trees [name, size, colour, info lines, kids, kind, dist name] -----------
  function diffView(view) {
    function build(spec, parent) {
      var n = node(spec[0], spec[5] || "item");
      n.parent = parent; n.size = spec[1]; n.colour = spec[2]; n.info = spec[3]; n.dname = spec[6] || null;
      if (spec[4] && spec[4].length) {
        n.kids = spec[4].map(function (k) { return build(k, n); });
        n.cats = {};
        n.kids.forEach(function (k) { for (var c in k.cats) n.cats[c] = (n.cats[c] || 0) + k.cats[c]; });
      } else {
        n.cats = {}; n.cats[n.colour] = n.size;
      }
      return n;
    }
    return build(DATA.views[view], null);
  }

  // --- squarified layout (Bruls, Huizing, van Wijk 2000) --------------------------------------
  function squarify(items, x, y, w, h) {
    var out = [], total = 0, i;
    for (i = 0; i < items.length; i++) total += items[i].size;
    if (total <= 0 || w <= 0 || h <= 0) return out;
    var scale = (w * h) / total;
    i = 0;
    while (i < items.length) {
      var side = Math.min(w, h), row = [], sum = 0, best = Infinity, rmax = 0, rmin = Infinity;
      while (i < items.length) {
        var a = items[i].size * scale;
        var s = sum + a, mx = Math.max(rmax, a), mn = Math.min(rmin, a);
        var worst = Math.max((side * side * mx) / (s * s), (s * s) / (side * side * mn));
        if (row.length && worst > best) break;
        row.push(items[i]); sum = s; best = worst; rmax = mx; rmin = mn; i++;
      }
      var thick = sum / side, off = 0;
      for (var j = 0; j < row.length; j++) {
        var len = (row[j].size * scale) / thick;
        out.push(w >= h ? [row[j], x, y + off, thick, len] : [row[j], x + off, y, len, thick]);
        off += len;
      }
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
    }
    return out;
  }

  // --- rendering -------------------------------------------------------------------------------
  var map = document.getElementById("treemap");
  var crumbs = document.getElementById("crumbs");
  var tip = document.getElementById("tip");
  var search = document.getElementById("search");
  var status = document.getElementById("search-status");
  var views = {}, current = null, registry = [], boxes = 0, query = "";

  function draw(parent, n, x, y, w, h, depth) {
    var kids = (n.kids || []).filter(function (k) { return k.size > 0; });
    var placed = squarify(kids, x, y, w, h);
    for (var i = 0; i < placed.length && boxes < MAX_BOXES; i++) {
      var k = placed[i][0];
      var bx = Math.round(placed[i][1]), by = Math.round(placed[i][2]);
      var bw = Math.round(placed[i][1] + placed[i][3]) - bx, bh = Math.round(placed[i][2] + placed[i][4]) - by;
      if (bw < 3 || bh < 3) continue;
      var el = document.createElement("div");
      el.className = "box c-" + k.colour + (DARK[k.colour] ? " dark" : "");
      el.style.left = bx + "px"; el.style.top = by + "px";
      el.style.width = bw + "px"; el.style.height = bh + "px";
      el.dataset.id = String(registry.length);
      el.dataset.kind = k.kind;
      el.dataset.bytes = String(k.size);
      if (k.dname !== null) el.dataset.name = k.dname;
      if (k.layer !== undefined) el.dataset.layer = String(k.layer);
      registry.push(k);
      boxes++;
      if (depth === 1) {  // the top boxes take keyboard focus: Enter zooms in, Escape out
        el.tabIndex = 0;
        el.setAttribute("role", "button");
        el.setAttribute("aria-label", k.name + " " + fmtBytes(k.size));
      }
      var label = document.createElement("span");
      label.className = "label";
      label.textContent = k.name + " " + fmtBytes(k.size);
      el.appendChild(label);
      parent.appendChild(el);
      el.dataset.colour = k.colour;
      if (k.kids && depth < MAX_DEPTH && bw > 50 && bh > 36) {
        el.className = "box group";
        // a diff's group keeps its change as the colour of its title strip
        if (DATA.kind === "diff") label.className = "label c-" + k.colour + (DARK[k.colour] ? " dark" : "");
        draw(el, k, 2, 16, bw - 6, bh - 20, depth + 1);
      }
    }
  }

  function render() {
    map.textContent = "";
    registry = []; boxes = 0;
    draw(map, current, 0, 0, map.clientWidth, map.clientHeight, 1);
    crumbs.textContent = "";
    var chain = [];
    for (var n = current; n; n = n.parent) chain.unshift(n);
    chain.forEach(function (c, i) {
      if (i) { var sep = document.createElement("span"); sep.className = "sep"; sep.textContent = "\u203a"; crumbs.appendChild(sep); }
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = c.name + " (" + fmtBytes(c.size) + ")";
      b.dataset.bytes = String(c.size);
      if (c === current) b.setAttribute("aria-current", "location");
      else b.addEventListener("click", function () { zoom(c); });
      crumbs.appendChild(b);
    });
    mark();
  }

  function zoom(n) { current = n; tip.hidden = true; render(); }

  function showView(name) {
    if (!views[name]) views[name] = DATA.kind === "diff" ? diffView(name) : inspectView(name);
    current = views[name];
    render();
  }

  // --- search ----------------------------------------------------------------------------------
  function hits(n, q, acc) {
    var hit = false;
    if (n.kids) { for (var i = 0; i < n.kids.length; i++) if (hits(n.kids[i], q, acc)) hit = true; }
    else if (n.text.indexOf(q) >= 0) { hit = true; acc.files++; acc.bytes += n.size; }
    if (!hit && n.kind !== "dir" && n.text.indexOf(q) >= 0) hit = true;
    n.hit = hit;
    return hit;
  }
  function mark() {
    var q = query;
    map.classList.toggle("searching", q !== "");
    if (q === "") { status.textContent = ""; }
    else {
      var acc = { files: 0, bytes: 0 };
      var root = current; while (root.parent) root = root.parent;
      hits(root, q, acc);
      status.textContent = W.matches.replace("{n}", acc.files.toLocaleString("en")).replace("{bytes}", fmtBytes(acc.bytes));
    }
    var els = map.querySelectorAll(".box");
    for (var i = 0; i < els.length; i++) {
      els[i].classList.toggle("hit", q !== "" && registry[+els[i].dataset.id].hit === true);
    }
  }
  search.addEventListener("input", function () { query = search.value.trim().toLowerCase(); mark(); });

  // --- events ----------------------------------------------------------------------------------
  map.addEventListener("click", function (e) {
    var el = e.target.closest(".box");
    if (!el) return;
    var n = registry[+el.dataset.id];
    if (n.kids) zoom(n); else if (n.parent && n.parent !== current) zoom(n.parent);
  });
  map.addEventListener("mousemove", function (e) {
    var el = e.target.closest(".box");
    if (!el) { tip.hidden = true; return; }
    var n = registry[+el.dataset.id];
    var lines = n.info || [n.name, fmtBytes(n.size)];
    tip.textContent = "";
    lines.forEach(function (line, i) {
      var d = document.createElement("div");
      if (i === 0) d.className = "t";
      d.textContent = line;
      tip.appendChild(d);
    });
    if (n.kids) {
      var hint = document.createElement("div");
      hint.textContent = W.click_to_zoom;
      tip.appendChild(hint);
    }
    tip.hidden = false;
    var x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 4);
    var y = e.clientY + 14 + tip.offsetHeight > window.innerHeight ? e.clientY - tip.offsetHeight - 8 : e.clientY + 14;
    tip.style.left = Math.max(0, x) + "px"; tip.style.top = Math.max(0, y) + "px";
  });
  map.addEventListener("mouseleave", function () { tip.hidden = true; });
  map.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && current.parent) { e.preventDefault(); zoom(current.parent); map.focus(); return; }
    if (e.key !== "Enter" && e.key !== " ") return;
    var el = e.target.closest(".box");
    if (!el) return;
    e.preventDefault();
    var n = registry[+el.dataset.id];
    if (n.kids) { zoom(n); var first = map.querySelector(".box"); if (first) first.focus(); }
  });
  document.querySelectorAll("input[name=view]").forEach(function (r) {
    r.addEventListener("change", function () { if (r.checked) showView(r.value); });
  });
  var drawnSize = "";
  new ResizeObserver(function () {
    var size = map.clientWidth + "x" + map.clientHeight;
    if (size !== drawnSize && current) { drawnSize = size; render(); }
  }).observe(map);

  // --- sortable tables -------------------------------------------------------------------------
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = th.classList.contains("n");
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var r = numeric ? (+x.dataset.v || 0) - (+y.dataset.v || 0)
            : x.textContent.localeCompare(y.textContent);
          return asc ? r : -r;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });

  var checked = document.querySelector("input[name=view]:checked");
  showView(checked ? checked.value : DATA.default_view);
})();
