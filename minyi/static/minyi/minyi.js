// Small behaviours that must not live inline (the Content-Security-Policy forbids it).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// Refusals (400, 409) carry the page to show: let htmx swap them in like a success.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 400 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A swap that replaces the focused control (a step form's button, 查看反映人完整信息)
// leaves the focus on the page's body, and a keyboard user back at the top of the page
// (WCAG 2.4.3). Move it to what the swap brought: the error summary of the form sent
// (next to its fields), else any error summary, else its message, else its first heading. Swaps that leave the focus where it was (the list filters,
// the studio's representatives) and the progress polls are left alone.
var focusWasIn = null;
document.addEventListener("htmx:beforeSwap", function (event) {
  var active = document.activeElement;
  focusWasIn = active && active !== document.body && event.detail.target.contains(active)
    ? event.detail.target : null;
});
document.addEventListener("htmx:afterSettle", function (event) {
  var target = focusWasIn;
  focusWasIn = null;
  var active = document.activeElement;
  if (!target || !target.isConnected || (active && active !== document.body && active.isConnected)) {
    return;
  }
  var spot = target.querySelector("form [role=alert]") ||
    target.querySelector("[role=alert], .messages, h1, h2, h3") || target;
  if (!spot.hasAttribute("tabindex") && spot.tabIndex < 0) {
    spot.setAttribute("tabindex", "-1");
  }
  spot.focus();
});
