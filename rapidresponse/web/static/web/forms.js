// Forms that ask before they are sent: <form data-confirm="question">, the question in the
// reader's language. (The Content Security Policy allows no onsubmit="..." attributes.)
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm &&
        !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
