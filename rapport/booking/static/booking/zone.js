/*
 * The booking picker shows times in the browser's own time zone when the person has not chosen
 * one: with no ?tz= in the address, reload once with the zone the browser reports. Without
 * JavaScript the page shows the therapist's zone and the menu lets the person pick theirs.
 * Loaded with the page's CSP nonce; no inline script, no eval.
 */
(function () {
  "use strict";

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  var form = document.getElementById("zone-form");
  if (!form || form.getAttribute("data-detect-zone") !== "true") {
    return;
  }
  var url = new URL(window.location.href);
  if (url.searchParams.has("tz")) {
    return;
  }
  var zone = browserZone();
  if (!zone) {
    return;
  }
  url.searchParams.set("tz", zone);
  // replace(), not assign(): the back button should skip the page without the zone.
  window.location.replace(url.toString());
})();
