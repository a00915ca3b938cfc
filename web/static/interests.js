/* The interest step, better with script: the list narrows while typing in the filter
   box, and the counter and the list of chosen interests follow every tick. Without
   script the same form works through its "Filter" button (a round trip). */
(function () {
  "use strict";

  var step = document.querySelector(".interest-step");
  if (!step) {
    return;
  }
  var box = step.querySelector("#f-interest_filter");
  var count = step.querySelector("#interest-count");
  var chosen = step.querySelector("#interest-chosen-list");
  var result = step.querySelector("#interest-filter-result");
  var sections = Array.prototype.slice.call(step.querySelectorAll("details.interest-group"));
  var boxes = Array.prototype.slice.call(step.querySelectorAll('input[name="interests"]'));
  var plural = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang) : null;

  /* Case and accents ignored, as the page does it: "velo" finds "Vélo". */
  function folded(text) {
    return text.toLocaleLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  function labelOf(input) {
    var label = step.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent.trim() : input.value;
  }

  /* The page's own wording (data-one, data-other) for this number, in the page language. */
  function worded(element, number) {
    var form = plural && plural.select(number) === "one" ? "one" : "other";
    return element.getAttribute("data-" + form).replace("{count}", String(number));
  }

  function counted() {
    var ticked = boxes.filter(function (input) { return input.checked; });
    count.textContent = worded(count, ticked.length);
    while (chosen.firstChild) {
      chosen.removeChild(chosen.firstChild);
    }
    ticked.forEach(function (input) {
      var item = document.createElement("li");
      item.textContent = labelOf(input);
      chosen.appendChild(item);
    });
    chosen.hidden = ticked.length === 0;
  }

  function filtered() {
    var needle = folded(box.value.trim().replace(/\s+/g, " "));
    var matches = 0;
    sections.forEach(function (section) {
      var summary = section.querySelector("summary");
      var whole = needle !== "" && folded(summary.textContent).indexOf(needle) !== -1;
      var any = false;
      Array.prototype.forEach.call(section.querySelectorAll("li"), function (item) {
        var input = item.querySelector("input");
        var shown = needle === "" || whole || folded(labelOf(input)).indexOf(needle) !== -1;
        item.hidden = !shown;
        any = any || shown;
        matches += shown ? 1 : 0;
      });
      section.hidden = !any;
      if (any && needle !== "") {
        section.open = true;
      }
    });
    result.textContent = needle === "" ? "" : worded(result, matches).replace("{query}", box.value.trim());
  }

  box.addEventListener("input", filtered);
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault(); /* already filtered: no need to send the form */
    }
  });
  boxes.forEach(function (input) {
    input.addEventListener("change", counted);
  });
})();
