/*
 * After booking, cancelling or moving a consultation, the page's message says what happened:
 * move the focus there on load, so keyboard and screen-reader users start from it instead of
 * the top of the site. Without JavaScript the message is still the first thing in the main
 * area. Loaded with the page's CSP nonce; no inline script.
 */
(function () {
  "use strict";
  var message = document.querySelector("[data-focus-on-load]");
  if (message) {
    message.focus();
  }
})();
