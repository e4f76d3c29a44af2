/* Behaviour of the course's HTML book (Jupyter Book includes every .js in _static/).
 *
 * A solution's title ("Solution to Exercise 2 (title)") is a dropdown toggle, but part of
 * it is a link to the exercise. sphinx-togglebutton toggles only on a click on the title's
 * blank part or its chevron; a click on the link text jumped to the exercise (just above),
 * left the solution closed, and raised an error in the console. Here a click anywhere on
 * a toggle's title opens or closes it.
 */
document.addEventListener(
  "click",
  (event) => {
    const inner = event.target instanceof Element ? event.target : null;
    if (!inner) return;
    const title = inner.closest(".admonition.toggle > .admonition-title");
    if (!title || inner === title || inner.closest(".toggle-button")) return;
    event.preventDefault();
    event.stopPropagation();
    title.click();
  },
  true,
);

/* A display equation a little wider than the text column is scaled down to fit it (to no
 * less than MIN_SCALE of its size; beyond that it keeps its size and scrolls, with the
 * scroll cue of initcourse.css). Runs after MathJax has typeset the page, and again when
 * the window is resized.
 */
(() => {
  const MIN_SCALE = 0.8;
  const fit = () => {
    document.querySelectorAll('mjx-container[display="true"]').forEach((eq) => {
      eq.style.fontSize = "";
      const available = eq.clientWidth;
      const needed = eq.scrollWidth;
      if (available > 0 && needed > available + 1) {
        const scale = available / needed;
        if (scale >= MIN_SCALE) eq.style.fontSize = `${Math.floor(scale * 1000) / 10}%`;
      }
    });
  };
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(fit, 150);
  });
  window.addEventListener("load", () => {
    const startup = window.MathJax && window.MathJax.startup;
    if (startup && startup.promise) startup.promise.then(fit);
  });
})();
