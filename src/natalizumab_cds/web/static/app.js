// Small progressive enhancements; every page works without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Filters: a changed select submits its form when the form asks for it.
  for (const select of document.querySelectorAll("form[data-autosubmit] select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // Send keyboard focus to the first field with a validation message, else to a focusable alert.
  const target = document.querySelector('[aria-invalid="true"]') ||
    document.querySelector('[role="alert"][tabindex]');
  if (target) { target.focus(); }
});
