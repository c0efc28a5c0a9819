/*
 * Search page enhancements; the page works fully without them.
 *
 * - "Use my location" fills the hidden lat/lon fields from the browser's geolocation (only
 *   when asked, and only on this page) and submits the form.
 * - Typing a place name clears coordinates from an earlier "use my location".
 * - The filters panel stays open on wide screens, where there is room beside the results.
 * - aria-invalid follows the error messages htmx swaps in beside the fields.
 * - After a search is submitted (Enter or a button), focus moves to the result count, as the
 *   form's #results action does without JavaScript; on a narrow screen the filters panel
 *   closes so the results are in view (it opens again when a field there has an error).
 * - Options whose live count htmx swaps to (0) are disabled, as the server renders them,
 *   unless ticked (a ticked one must stay untickable).
 * - Only the newest search may change the results (see setUpRequests), a slow one says
 *   "Searching…", and one that fails says so instead of leaving the old results unexplained.
 * Loaded with the page's CSP nonce; no inline script, no eval.
 */
(function () {
  "use strict";

  var WIDE = "(min-width: 60rem)";

  function submitForm(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function setUpLocation(form) {
    var button = document.getElementById("use-my-location");
    var status = document.getElementById("location-status");
    var near = document.getElementById("id_near");
    var lat = document.getElementById("id_lat");
    var lon = document.getElementById("id_lon");
    if (!button || !status || !near || !lat || !lon) {
      return;
    }
    if (lat.value && lon.value && !near.value) {
      status.textContent = "Searching near your current location.";
    }
    near.addEventListener("input", function () {
      lat.value = "";
      lon.value = "";
      status.textContent = "";
    });
    if (!("geolocation" in navigator)) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // Two decimals (about a kilometre) are enough for a radius search and say less.
          lat.value = position.coords.latitude.toFixed(2);
          lon.value = position.coords.longitude.toFixed(2);
          near.value = "";
          status.textContent = "Searching near your current location.";
          submitForm(form);
        },
        function () {
          status.textContent =
            "Your location is not available. Type a city or region instead.";
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 }
      );
    });
  }

  function setUpPanel() {
    var panel = document.getElementById("filters-panel");
    if (!panel || !window.matchMedia) {
      return;
    }
    var wide = window.matchMedia(WIDE);
    if (wide.matches) {
      panel.open = true;
    }
    wide.addEventListener("change", function (event) {
      if (event.matches) {
        panel.open = true;
      }
    });
  }

  function syncInvalidState() {
    var slots = document.querySelectorAll("#search-form .field-error");
    Array.prototype.forEach.call(slots, function (slot) {
      var selector = '[aria-describedby~="' + slot.id + '"]';
      var controls = document.querySelectorAll(selector);
      Array.prototype.forEach.call(controls, function (control) {
        if (slot.textContent.trim()) {
          control.setAttribute("aria-invalid", "true");
        } else {
          control.removeAttribute("aria-invalid");
        }
      });
    });
  }

  function setUpLanding(form) {
    var submitted = false;
    var panel = document.getElementById("filters-panel");
    form.addEventListener("submit", function () {
      submitted = true;
      if (panel && window.matchMedia && !window.matchMedia(WIDE).matches) {
        panel.open = false;
      }
    });
    document.body.addEventListener("htmx:afterSettle", function (event) {
      var target = event.detail && event.detail.target;
      if (!submitted || !target || target.id !== "search-results") {
        return;
      }
      submitted = false;
      var errors = panel ? panel.querySelectorAll(".field-error") : [];
      var panelHasError = Array.prototype.some.call(errors, function (slot) {
        return slot.textContent.trim() !== "";
      });
      if (panel && panelHasError) {
        panel.open = true;
      }
      var landing = document.getElementById("results");
      if (landing) {
        landing.focus();
      }
    });
  }

  function syncUnavailable() {
    var counts = document.querySelectorAll("#search-form .facet-count");
    Array.prototype.forEach.call(counts, function (count) {
      var control = document.getElementById(count.id.replace(/^count-/, ""));
      if (!control) {
        return;
      }
      control.disabled = count.textContent.trim() === "(0)" && !control.checked;
    });
  }

  // How long a search may take before the count says "Searching…" (a quick one would only
  // flicker).
  var BUSY_DELAY_MS = 300;
  var FAILED_TEXT =
    "The search could not be finished, so the results below are from before it. " +
    "Please try again.";

  /*
   * Issue 17: on a freshly started server, "type a place → Enter" sometimes left the unfiltered
   * results on screen. Three ways that could happen were found, and each is closed here or
   * beside it:
   * - The first search of a server process loaded the place tables and built the index (1.5
   *   to 4 s on a small machine, against tens of ms later; each gunicorn worker paid it once),
   *   with nothing on screen saying a search was under way, so the old results looked like
   *   the answer; pressing Enter again only restarted the wait. The server now does that work
   *   before it accepts requests (rapport.directory.search.engine.warm), and a search slower
   *   than BUSY_DELAY_MS says "Searching…" and marks the results busy.
   * - The sort menu sits outside the form, so its request was not in the form's hx-sync: a
   *   sort answered after a place search replaced the place's results with unplaced ones (the
   *   symptom exactly; tests/browser/test_search_cold_server.py holds it back to show it). It
   *   now syncs on the form (hx-sync="#search-form:replace"), and, whatever sent it, a response
   *   that is not the newest request's is dropped here before it is swapped in.
   * - htmx leaves the page alone when a request fails (a server error, the network), so a
   *   failed search looked like one that found the same people. It now says it failed.
   */
  function setUpRequests() {
    var results = document.getElementById("search-results");
    var count = document.getElementById("result-count");
    var status = document.getElementById("filter-status");
    if (!results || !count) {
      return;
    }
    var latest = 0;
    var busyTimer = null;

    function isSearch(detail) {
      return !!(detail && detail.target && detail.target.id === "search-results" && detail.xhr);
    }

    function isLatest(detail) {
      return detail.xhr.rapportSearch === latest;
    }

    function notBusy() {
      if (busyTimer !== null) {
        window.clearTimeout(busyTimer);
        busyTimer = null;
      }
      results.removeAttribute("aria-busy");
    }

    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (!isSearch(event.detail)) {
        return;
      }
      latest += 1;
      event.detail.xhr.rapportSearch = latest;
      notBusy();
      results.setAttribute("aria-busy", "true");
      busyTimer = window.setTimeout(function () {
        busyTimer = null;
        count.textContent = "Searching…";
      }, BUSY_DELAY_MS);
    });

    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (isSearch(event.detail) && !isLatest(event.detail)) {
        event.detail.shouldSwap = false; // an older search answering late: never shown
      }
    });

    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (isSearch(event.detail) && isLatest(event.detail)) {
        notBusy();
      }
    });

    function failed(event) {
      if (!isSearch(event.detail) || !isLatest(event.detail)) {
        return;
      }
      notBusy();
      count.textContent = FAILED_TEXT;
      if (status) {
        status.textContent = FAILED_TEXT;
      }
    }
    document.body.addEventListener("htmx:responseError", failed);
    document.body.addEventListener("htmx:sendError", failed);
    document.body.addEventListener("htmx:timeout", failed);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("search-form");
    if (!form) {
      return;
    }
    setUpLocation(form);
    setUpPanel();
    setUpLanding(form);
    setUpRequests();
    document.body.addEventListener("htmx:afterSettle", syncInvalidState);
    document.body.addEventListener("htmx:afterSettle", syncUnavailable);
  });
})();
