// Printable signalement: the print button (no inline script under the CSP).
const button = document.getElementById("print");
if (button) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
