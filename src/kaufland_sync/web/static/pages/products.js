// Products pages: let htmx show the answers that carry a message for the person acting.
//
// An action refused for bad input (400) or a queue that is down (503)
// answers with the offers panel or the results table holding the message. htmx does not swap
// error answers by default; for these, the page's own markup is the message, so swap it.
"use strict";

(function () {
  var SHOWN = { 400: true, 503: true };

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr ? xhr.getResponseHeader("Content-Type") || "" : "";
    if (xhr && SHOWN[xhr.status] && type.indexOf("text/html") === 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
