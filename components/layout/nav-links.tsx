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

/** Pages only some roles may see; the layout says which this person may. */
const RESTRICTED_LINKS = { status: { href: "/status", label: "Status" } };

export function NavLinks({ also = [] }: { also?: ReadonlyArray<keyof typeof RESTRICTED_LINKS> }) {
  const pathname = usePathname();
  const links = [...LINKS, ...also.map((name) => RESTRICTED_LINKS[name])];
  const current = (href: string) => (href === "/" ? pathname === "/" || pathname.startsWith("/requests") : pathname.startsWith(href));
  return (
    <nav className="nav" aria-label="Main">
      {links.map((link) => (
        <Link key={link.href} href={link.href} aria-current={current(link.href) ? "page" : undefined}>
          {link.label}
        </Link>
      ))}
    </nav>
  );
}
