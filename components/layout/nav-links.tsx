"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Requests" },
  { href: "/sessions", label: "Sessions" },
  { href: "/grants", label: "Grants" },
  { href: "/audit", label: "Audit" },
  { href: "/policy", label: "Policy" },
];

export function NavLinks() {
  const pathname = usePathname();
  const current = (href: string) => (href === "/" ? pathname === "/" || pathname.startsWith("/requests") : pathname.startsWith(href));
  return (
    <nav className="nav" aria-label="Main">
      {LINKS.map((link) => (
        <Link key={link.href} href={link.href} aria-current={current(link.href) ? "page" : undefined}>
          {link.label}
        </Link>
      ))}
    </nav>
  );
}
