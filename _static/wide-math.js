// Inline formulas wider than the text column (on a phone) scroll sideways instead of being cut
// off: pydata-sphinx-theme clips span.math (overflow: hidden). After MathJax has typeset the page,
// and after every resize, each inline formula wider than its box gets the class mmcl-wide-math,
// which mmcl.css makes scrollable with a visible scrollbar. Formulas that fit are left alone.
(function () {
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
    whenTypeset();
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(mark, 150);
    });
  });
})();
