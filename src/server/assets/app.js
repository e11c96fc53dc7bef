// egovkb: the page works without this; it only saves clicks.
"use strict";
// Ticking a facet or changing the sort searches at once.
document.addEventListener("change", function (e) {
  var t = e.target;
  if (t.matches(".facet input[type=checkbox], select[name=sort]")) {
    var form = document.getElementById("search");
    if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  }
});
// "/" jumps to the search box, as on most search sites.
document.addEventListener("keydown", function (e) {
  var a = document.activeElement;
  var typing = a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA");
  if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
    var q = document.getElementById("q");
    if (q) { e.preventDefault(); q.focus(); q.select(); }
  }
});
// On a narrow screen the filters fold away, so that the results come first.
if (window.matchMedia && window.matchMedia("(max-width: 46em)").matches) {
  var box = document.querySelector("details.filter-box");
  if (box) { box.open = false; }
}
