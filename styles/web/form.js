// Print without a desk queue: the PDF loads into a hidden frame, then the browser's print
// dialog opens. With a desk queue the server prints, and the page has no such frame.
document.addEventListener("DOMContentLoaded", () => {
  const frame = document.getElementById("print-frame");
  if (!frame) return;
  let printing = false;
  document.getElementById("print-button").addEventListener("click", () => { printing = true; });
  frame.addEventListener("load", () => {
    if (!printing) return;
    printing = false;
    try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { /* viewer without print */ }
  });
});
