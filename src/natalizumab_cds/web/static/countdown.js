// Infusion day: keep the server-stated clocks ticking (the page already states each moment).
// <section data-server-now="ISO"> … <span data-countdown="ISO" data-suffix=" left" data-done="…">
// Time runs from the server's "now" when the page was made, so a workstation whose own
// clock is wrong still counts down correctly.
"use strict";
(() => {
  const spans = document.querySelectorAll("[data-countdown]");
  if (spans.length === 0) { return; }
  const holder = document.querySelector("[data-server-now]");
  const skew = holder ? Date.parse(holder.dataset.serverNow) - Date.now() : 0;
  const words = (ms) => {
    const minutes = Math.ceil(ms / 60000);
    if (minutes < 60) { return `${minutes} min`; }
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  };
  const tick = () => {
    const now = Date.now() + skew;
    for (const span of spans) {
      const left = Date.parse(span.dataset.countdown) - now;
      span.textContent = left > 0 ? words(left) + (span.dataset.suffix || "") : (span.dataset.done || "now");
    }
  };
  tick();
  window.setInterval(tick, 15000);
})();
