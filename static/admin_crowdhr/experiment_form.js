// The experiment form: show only the chosen task type's settings (the page works without this).
(function () {
  "use strict";
  function follow() {
    var select = document.getElementById("id_task_type");
    if (!select) { return; }
    var sections = document.querySelectorAll("fieldset.task-settings");
    sections.forEach(function (section) {
      section.hidden = !section.classList.contains("task-settings-" + select.value);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_task_type");
    if (select) { select.addEventListener("change", follow); follow(); }
  });
})();
