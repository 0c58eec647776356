// Inline formulas wider than the text column (on a phone) scroll sideways instead of being cut
// off: pydata-sphinx-theme clips span.math (overflow: hidden). After MathJax has typeset the page,
// and after every resize, each inline formula wider than its box gets the class mmcl-wide-math,
// which mmcl.css makes scrollable with a visible scrollbar. Formulas that fit are left alone.
// A punctuation mark right after an inline formula is kept on the formula's line (otherwise the
// browser may start a line with it): the two are wrapped in a span.mmcl-nobreak (white-space:
// nowrap in mmcl.css).
(function () {
  function keepPunctuation() {
    document.querySelectorAll("span.math").forEach(function (span) {
      var next = span.nextSibling;
      if (!next || next.nodeType !== Node.TEXT_NODE) return;
      var m = next.textContent.match(/^[.,;:!?)]+/);
      if (!m || (span.parentNode && span.parentNode.classList.contains("mmcl-nobreak"))) return;
      var rest = next.splitText(m[0].length);
      var keep = document.createElement("span");
      keep.className = "mmcl-nobreak";
      span.parentNode.insertBefore(keep, span);
      keep.appendChild(span);
      keep.appendChild(next);
      void rest;
    });
  }
  function mark() {
    document.querySelectorAll("span.math").forEach(function (span) {
      var math = span.querySelector("mjx-math");
      if (!math) return;
      var wide = math.getBoundingClientRect().width > span.getBoundingClientRect().width + 2;
      span.classList.toggle("mmcl-wide-math", wide);
    });
  }
  var tries = 0;
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(mark);
    } else if (tries++ < 300) {
      setTimeout(whenTypeset, 100);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("span.math")) return;
    keepPunctuation();
    whenTypeset();
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(mark, 150);
    });
  });
})();
