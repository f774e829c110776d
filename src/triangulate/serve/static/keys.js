// Keyboard shortcuts for the coding and adjudication pages of `triangulate serve`.
// Served as a file (the Content-Security-Policy forbids inline scripts). A shortcut never fires
// while the focus is in a text field, and nothing is ever saved except by the form's own submit.
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      var t = (el.getAttribute("type") || "text").toLowerCase();
      return t !== "radio" && t !== "checkbox" && t !== "button" && t !== "submit";
    }
    return false;
  }

  function nextDimension(form) {
    var dims = form.querySelectorAll(".dim");
    for (var i = 0; i < dims.length; i++) {
      var checked = dims[i].querySelector("input[type=radio]:checked");
      if (!checked || checked.value === "") return dims[i];
    }
    return null;
  }

  function mark(form) {
    var dims = form.querySelectorAll(".dim");
    var current = nextDimension(form);
    for (var i = 0; i < dims.length; i++) {
      dims[i].classList.toggle("current", dims[i] === current);
    }
  }

  function follow(id) {
    var link = document.getElementById(id);
    if (link) window.location.assign(link.getAttribute("href"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-keys]");
    if (!form) return;
    mark(form);
    form.addEventListener("change", function () { mark(form); });

    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return;
      if (typing(ev.target)) return;
      var key = ev.key;
      if (key === "y" || key === "n") {
        var dim = nextDimension(form);
        if (!dim) return;
        var input = dim.querySelector("input[value=" + (key === "y" ? "yes" : "no") + "]");
        if (input) { input.checked = true; mark(form); }
        ev.preventDefault();
      } else if (/^[1-9]$/.test(key)) {
        var cat = form.querySelector("input[name=category][data-n='" + key + "']");
        if (cat) { cat.checked = true; ev.preventDefault(); }
      } else if (key === "Enter") {
        ev.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      } else if (key === "b") {
        ev.preventDefault(); follow("back");
      } else if (key === "s") {
        ev.preventDefault(); follow("skip");
      } else if (key === "a") {
        ev.preventDefault(); follow("all");
      } else if (key === "?") {
        var help = document.getElementById("help");
        if (help) {
          help.classList.toggle("flash");
          help.scrollIntoView({ block: "start" });
        }
        ev.preventDefault();
      }
    });
  });
})();
