import { RulesPage } from "@/components/rules_page";

export default function Rules() {
  return <RulesPage />;
}
