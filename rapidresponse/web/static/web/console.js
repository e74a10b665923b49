// The dispatcher console's live queue (htmx polls it every two seconds). Without this file
// the queue still refreshes; with it: the tab's title counts new reports, an optional sound
// marks a new one, keyboard focus stays where it was, and an unchanged queue is left alone.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var queue = document.getElementById("queue");
  if (!queue) return;
  var baseTitle = document.title;
  var lastHtml = null;
  var focusKey = null;
  var seen = null;
  var soundBox = document.getElementById("queue-sound");
  var audio = null;

  function newIds() {
    var ids = [];
    queue.querySelectorAll('tr[data-state="reported"]').forEach(function (row) {
      ids.push(row.dataset.incident);
    });
    return ids;
  }

  function beep() {
    if (!audio) return;
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  }

  function update() {
    var ids = newIds();
    document.title = (ids.length ? "(" + ids.length + ") " : "") + baseTitle;
    if (seen !== null && ids.some(function (id) { return seen.indexOf(id) < 0; })) beep();
    seen = ids;
  }

  if (soundBox) {
    soundBox.checked = window.localStorage.getItem("rr-queue-sound") === "1";
    var enable = function () {
      // A browser lets a page make sound only after the person did something on it.
      if (soundBox.checked && !audio && window.AudioContext) audio = new window.AudioContext();
      if (!soundBox.checked) audio = null;
    };
    soundBox.addEventListener("change", function () {
      window.localStorage.setItem("rr-queue-sound", soundBox.checked ? "1" : "0");
      enable();
    });
    document.addEventListener("click", enable, { once: true });
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target !== queue) return;
    var html = event.detail.serverResponse;
    if (html === lastHtml) { event.detail.shouldSwap = false; return; }
    lastHtml = html;
    var active = document.activeElement;
    focusKey = active && queue.contains(active) ? active.dataset.focusKey : null;
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== queue) return;
    if (focusKey) {
      var again = queue.querySelector('[data-focus-key="' + focusKey + '"]');
      if (again) again.focus();
    }
    update();
  });
  update();
})();
