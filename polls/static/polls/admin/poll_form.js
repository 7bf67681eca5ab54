/* The poll form shows only what applies to the chosen kind: the options' time-slot columns
   for a time poll only, no options at all for a proposal (its answers are fixed). The poll's
   own fields are switched by the theme's conditional fields (PollAdmin.conditional_fields). */
(function () {
  "use strict";
  function apply() {
    var kind = document.getElementById("id_kind");
    if (!kind) return;
    var value = kind.value;
    var slots = value === "time";
    document.querySelectorAll(
      ".field-starts_at, .field-ends_at, th.column-starts_at, th.column-ends_at"
    ).forEach(function (el) {
      if (el.closest("#options-group")) el.style.display = slots ? "" : "none";
    });
    var group = document.getElementById("options-group");
    if (group) group.style.display = value === "proposal" ? "none" : "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var kind = document.getElementById("id_kind");
    if (!kind) return;
    kind.addEventListener("change", apply);
    apply();
  });
})();
