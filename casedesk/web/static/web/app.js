// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    var target = event.target;
    // the language menu switches as soon as a language is picked
    if (target.matches && target.matches("select[data-autosubmit]")) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
    // "select all" in the agent queues
    if (target.matches && target.matches("input[data-select-all]")) {
      var boxes = document.querySelectorAll("input[name=keys]");
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = target.checked;
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-print]") : null;
    if (target) { event.preventDefault(); window.print(); }
  });
})();
