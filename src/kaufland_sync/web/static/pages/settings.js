// Settings page: the account and storefront selectors show their choice at once. A new account
// starts at its first storefront (the old one may not be sold there). Without scripts the
// "Show" button does the same.
"use strict";

(function () {
  var form = document.getElementById("settings-select");
  if (!form) {
    return;
  }
  var account = document.getElementById("select-account");
  var storefront = document.getElementById("select-storefront");
  if (account) {
    account.addEventListener("change", function () {
      if (storefront) {
        storefront.disabled = true; // left out of the query: the page picks the first
      }
      form.submit();
    });
  }
  if (storefront) {
    storefront.addEventListener("change", function () {
      form.submit();
    });
  }
})();
