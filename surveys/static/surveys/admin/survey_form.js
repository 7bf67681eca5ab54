/* The survey form in the back office (no build step, no network):

   1. A visual builder for the display conditions of questions and pages. It replaces each
      condition textarea with rows of "question / operator / value" and an all/any switch,
      and writes the same JSON ({"match": "all"|"any", "rules": [...]}) back into the
      textarea, which stays the submitted field: the server validates it exactly as typed
      JSON (and without JavaScript the textarea is simply there).
   2. Per question type, only the fields that apply (choices for choice questions, limits for
      numbers, the scale for ratings...), as the poll form does per kind.

   What it needs comes from the page: <script id="survey-form-data" type="application/json">
   with the saved questions in display order, the operators each type allows, their labels and
   the texts of the builder, all translated on the server (see surveys/logic_builder.py). */
(function () {
  "use strict";

  var DATA = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function option(value, label, selected) {
    var node = el("option", { value: value, text: label });
    if (selected) node.selected = true;
    return node;
  }

  /* The questions a condition of this textarea may refer to: for a question, the saved ones
     before it (all of them for a new question, which goes last); for a page, those on earlier
     pages. Matrix and ranking questions have no operator and are left out. */
  function candidates(textarea) {
    var match = /^(.*-)condition$/.exec(textarea.name);
    var prefix = match ? match[1] : "";
    var idInput = document.querySelector('[name="' + prefix + 'id"]');
    var ownId = idInput ? idInput.value : "";
    var usable = DATA.questions.filter(function (q) {
      return (DATA.operators[q.type] || []).length > 0;
    });
    if (prefix.indexOf(DATA.page_prefix + "-") === 0) {
      var pageIndex = DATA.pages.indexOf(ownId);
      if (pageIndex < 0) return usable;
      return usable.filter(function (q) {
        var index = DATA.pages.indexOf(q.page_id);
        return index >= 0 && index < pageIndex;
      });
    }
    var position = -1;
    DATA.questions.forEach(function (q, index) { if (q.id === ownId) position = index; });
    if (position < 0) return usable;
    return usable.filter(function (q) { return DATA.questions.indexOf(q) < position; });
  }

  function parse(text) {
    if (!text || !text.trim()) return { match: "all", rules: [] };
    var data = JSON.parse(text);
    if (!data || typeof data !== "object" || !Array.isArray(data.rules)) throw new Error("shape");
    return { match: data.match === "any" ? "any" : "all", rules: data.rules };
  }

  function valueInput(question, rule) {
    var T = DATA.texts;
    var value = rule.value === undefined || rule.value === null ? "" : String(rule.value);
    if (question && question.choices.length) {
      var select = el("select", { className: "logic-value", "aria-label": T.value });
      select.appendChild(option("", T.pick_choice, value === ""));
      var known = false;
      question.choices.forEach(function (c) {
        known = known || c.id === value;
        select.appendChild(option(c.id, c.label, c.id === value));
      });
      if (value && !known) select.appendChild(option(value, value, true));
      return select;
    }
    var kind = question ? question.type : "";
    var type = kind === "date" ? "date" : DATA.numeric_types.indexOf(kind) >= 0 ? "number" : "text";
    var input = el("input", { className: "logic-value", type: type, "aria-label": T.value });
    if (type === "number") input.step = "any";
    input.value = value;
    return input;
  }

  function build(textarea) {
    var T = DATA.texts;
    var state;
    try {
      state = parse(textarea.value);
    } catch (e) {
      return; // not something the builder can show: leave the JSON as typed
    }
    textarea.dataset.builderReady = "1";
    if (!textarea.dataset.builderBound) {
      // typed JSON (after "show JSON") wins: the builder is drawn again from it
      textarea.dataset.builderBound = "1";
      textarea.addEventListener("input", function () {
        try {
          parse(textarea.value);
        } catch (e) {
          return;
        }
        if (textarea.logicRoot) textarea.logicRoot.remove();
        build(textarea);
        textarea.style.display = "";
      });
    }
    var questions = candidates(textarea);
    var byId = {};
    DATA.questions.forEach(function (q) { byId[q.id] = q; });

    var root = el("div", { className: "logic-builder", "data-for": textarea.name });
    textarea.parentNode.insertBefore(root, textarea);
    textarea.logicRoot = root;
    textarea.style.display = "none";

    function write() {
      var rules = [];
      root.querySelectorAll(".logic-rule").forEach(function (row) {
        var qid = row.querySelector(".logic-question").value;
        if (!qid) return;
        var raw = row.querySelector(".logic-value").value;
        var q = byId[qid];
        var value = raw;
        if (q && DATA.numeric_types.indexOf(q.type) >= 0 && raw.trim() !== "" && isFinite(Number(raw))) {
          value = Number(raw);
        }
        rules.push({ question_id: qid, operator: row.querySelector(".logic-operator").value, value: value });
      });
      var match = root.querySelector(".logic-match").value;
      textarea.value = rules.length ? JSON.stringify({ match: match, rules: rules }) : "";
      textarea.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function ruleRow(rule) {
      var row = el("div", { className: "logic-rule" });
      var pick = el("select", { className: "logic-question", "aria-label": T.question });
      pick.appendChild(option("", T.pick_question, !rule.question_id));
      var known = false;
      questions.forEach(function (q) {
        known = known || q.id === rule.question_id;
        pick.appendChild(option(q.id, q.title, q.id === rule.question_id));
      });
      if (rule.question_id && !known) {
        // kept so the server names the problem (a later, deleted or unknown question)
        var missing = byId[rule.question_id];
        pick.appendChild(option(rule.question_id, missing ? missing.title : rule.question_id, true));
      }
      var operator = el("select", { className: "logic-operator", "aria-label": T.operator });
      var value = valueInput(byId[rule.question_id], rule);

      function fillOperators(selected) {
        operator.innerHTML = "";
        var q = byId[pick.value];
        var allowed = q ? DATA.operators[q.type] || [] : Object.keys(DATA.operator_labels);
        if (selected && allowed.indexOf(selected) < 0) allowed = allowed.concat([selected]);
        allowed.forEach(function (code) {
          operator.appendChild(option(code, DATA.operator_labels[code] || code, code === selected));
        });
      }
      fillOperators(rule.operator || "equals");

      pick.addEventListener("change", function () {
        fillOperators(operator.value);
        var fresh = valueInput(byId[pick.value], {});
        row.replaceChild(fresh, row.querySelector(".logic-value"));
        fresh.addEventListener("change", write);
        fresh.addEventListener("input", write);
        write();
      });
      operator.addEventListener("change", write);
      value.addEventListener("change", write);
      value.addEventListener("input", write);
      var remove = el("button", { type: "button", className: "logic-remove", text: T.remove });
      remove.addEventListener("click", function () { row.remove(); write(); refresh(); });
      [pick, operator, value, remove].forEach(function (n) { row.appendChild(n); });
      return row;
    }

    var match = el("select", { className: "logic-match", "aria-label": T.match });
    match.appendChild(option("all", T.match_all, state.match === "all"));
    match.appendChild(option("any", T.match_any, state.match === "any"));
    match.addEventListener("change", write);
    var head = el("div", { className: "logic-head" }, [el("span", { text: T.show_when }), match]);
    var list = el("div", { className: "logic-rules" });
    var empty = el("p", { className: "logic-empty", text: questions.length ? T.always : T.nothing_before });
    var add = el("button", { type: "button", className: "logic-add", text: T.add_rule });
    add.addEventListener("click", function () {
      list.appendChild(ruleRow({}));
      refresh();
    });
    var toggle = el("button", { type: "button", className: "logic-json", text: T.show_json });
    toggle.addEventListener("click", function () {
      textarea.style.display = textarea.style.display === "none" ? "" : "none";
    });
    function refresh() {
      var count = list.querySelectorAll(".logic-rule").length;
      head.style.display = count > 1 ? "" : "none";
      empty.style.display = count ? "none" : "";
      add.style.display = questions.length ? "" : "none";
    }

    state.rules.forEach(function (rule) { list.appendChild(ruleRow(rule)); });
    [head, list, empty, el("div", { className: "logic-tools" }, [add, toggle])].forEach(function (n) {
      root.appendChild(n);
    });
    refresh();
  }

  /* Per question type: hide the fields of a question form that do not apply to its type. */
  function applyType(select) {
    var prefix = select.name.replace(/type$/, "");
    var form = select.closest(".form-group") || select.closest(".inline-related") || document;
    var type = select.value;
    Object.keys(DATA.type_fields).forEach(function (field) {
      var shown = !type || DATA.type_fields[field].indexOf(type) >= 0;
      var input = form.querySelector('[name="' + prefix + field + '"]');
      var line = input && (input.closest(".field-" + field) || input.closest(".form-row"));
      if (line) line.style.display = shown ? "" : "none";
    });
    form.querySelectorAll(".field-row").forEach(function (row) {
      var lines = row.querySelectorAll(".field-line");
      if (!lines.length) return;
      var visible = Array.prototype.some.call(lines, function (l) { return l.style.display !== "none"; });
      row.style.display = visible ? "" : "none";
    });
  }

  function live(node) {
    return node.name && node.name.indexOf("__prefix__") < 0;
  }

  function scan() {
    document.querySelectorAll("textarea[data-condition-builder]").forEach(function (t) {
      if (live(t) && !t.dataset.builderReady) build(t);
    });
    var typeName = new RegExp("^" + DATA.question_prefix + "-\\d+-type$");
    document.querySelectorAll("select[name$='-type']").forEach(function (s) {
      if (!live(s) || !typeName.test(s.name) || s.dataset.typeFields) return;
      s.dataset.typeFields = "1";
      s.addEventListener("change", function () { applyType(s); });
      applyType(s);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("survey-form-data");
    if (!source) return;
    DATA = JSON.parse(source.textContent);
    scan();
    document.addEventListener("formset:added", function () { setTimeout(scan, 0); });
  });
})();
