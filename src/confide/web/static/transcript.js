// Transcript page: the "Print / save as PDF" button (no inline script under the CSP).
const button = document.getElementById("print-transcript");
if (button) button.addEventListener("click", () => window.print());
