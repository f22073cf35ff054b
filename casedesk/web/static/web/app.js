// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // the browser's time zone, for pages of people who chose none (web/zones.py)
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var kept = (document.cookie.match(/(?:^|; )casedesk_tz=([^;]*)/) || [])[1];
    if (zone && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone) && kept !== zone) {
      document.cookie = "casedesk_tz=" + zone +
        "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
    }
  } catch (e) { /* no Intl: the desk's zone is used */ }
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
  // the running timer of the log-work form: it survives a reload of the ticket page
  var timer = document.querySelector("button[data-timer]");
  if (timer) {
    var key = "casedesk-timer:" + location.pathname;
    var minutes = timer.form.querySelector("input[data-timer-minutes]");
    var show = function () {
      var started = sessionStorage.getItem(key);
      timer.textContent = started ? timer.dataset.stop : timer.dataset.start;
      timer.setAttribute("aria-pressed", started ? "true" : "false");
    };
    timer.hidden = false;
    show();
    timer.addEventListener("click", function () {
      var started = sessionStorage.getItem(key);
      if (started) {
        var spent = Math.max(1, Math.round((Date.now() - Number(started)) / 60000));
        minutes.value = String((Number(minutes.value) || 0) + spent);
        sessionStorage.removeItem(key);
      } else {
        sessionStorage.setItem(key, String(Date.now()));
      }
      show();
    });
  }
})();
